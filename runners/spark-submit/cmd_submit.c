/* cmd_submit: `spark-submit-runner submit`, the job spec to a spark-submit command line, run as a
 * wrapped child (common/child) with its stderr tapped for the driver's status, then the result. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "child.h"
#include "commands.h"
#include "exitcode.h"
#include "jobload.h"
#include "k8sstatus.h"
#include "log.h"
#include "progenv.h"
#include "redact.h"
#include "result.h"
#include "sparkcmd.h"
#include "sparkconn.h"
#include "tap.h"

static struct job_flags jf;
static struct k8s_policy policy = { .conn_secret_prefix = "airflow-conn-" };
static const char *spark_submit = "spark-submit", *driver_container = SPARK_DRIVER_CONTAINER;
static long timeout_ms, grace_ms = 8000;

/* What the run needs besides the job: the connections' JDBC settings. */
struct run {
	struct spark_job job;
	struct kvlist jdbc;       /* plain settings: URL, DRIVER, USER */
	struct strlist passwords; /* TINYRUN_JDBC_<ID>_PASSWORD values, same order as job.connections */
	struct strlist argv;
	struct k8s_status status;
};

static int load_connections(struct run *r)
{
	char err[400];
	for (size_t i = 0; i < r->job.connections.len; i++) {
		char *password = NULL;
		if (sparkconn_jdbc(r->job.connections.items[i], &r->jdbc, &password, err, sizeof err) != TR_EXIT_OK)
			return result_fail(TR_EXIT_USAGE, "connection", "%s", err);
		strlist_push(&r->passwords, password ? password : "");
		free(password);
	}
	return TR_EXIT_OK;
}

/* A local application file must exist before a JVM is started for it. */
static int check_application(const struct spark_job *job)
{
	const char *app = job->application;
	struct stat st;
	if (strstr(app, "://") || strncmp(app, "local:", 6) == 0 || jobspec_cluster_mode(job))
		return TR_EXIT_OK; /* in the cluster's image or remote storage: Spark fetches it */
	if (stat(app, &st) < 0 || !S_ISREG(st.st_mode))
		return result_fail(TR_EXIT_USAGE, "application",
		                   "the application %s does not exist in this image (a relative path starts at the "
		                   "working directory)",
		                   app);
	return TR_EXIT_OK;
}

/* Defence in depth: no secret we know may reach argv, which every `ps` shows. */
static int check_argv(const struct run *r)
{
	for (size_t i = 0; i < r->argv.len; i++) {
		char *shown = redact_dup(r->argv.items[i]);
		int leaked = strcmp(shown, r->argv.items[i]) != 0;
		free(shown);
		if (leaked)
			return result_fail(TR_EXIT_USAGE, "secret_in_argv",
			                   "a secret would appear on spark-submit's command line (argument %zu); pass "
			                   "it through a connection instead",
			                   i);
	}
	return TR_EXIT_OK;
}

static int prepare(struct run *r, const struct strlist *positional)
{
	char err[600];
	if (jobload(&jf, positional, &r->job, err, sizeof err) < 0)
		return result_fail(TR_EXIT_USAGE, "job_spec", "%s", err);
	cJSON *res = result_object();
	cJSON_AddStringToObject(res, "master", r->job.master);
	cJSON_AddStringToObject(res, "deploy_mode", r->job.deploy_mode);
	int rc = check_application(&r->job);
	if (rc == TR_EXIT_OK)
		rc = load_connections(r);
	if (rc == TR_EXIT_OK && sparkcmd_build(spark_submit, &r->job, &policy, &r->jdbc, &r->argv, err, sizeof err) < 0)
		rc = result_fail(TR_EXIT_USAGE, "policy", "%s", err);
	return rc == TR_EXIT_OK ? check_argv(r) : rc;
}

/* The driver's environment when it is spark-submit's own process (local and client mode): ours,
 * the job's env, the connections' JDBC settings and passwords, the result file. In cluster mode
 * spark-submit is only the submission client: the driver's environment travels as conf. */
static int driver_env(const struct run *r, const char *result_file, struct strlist *env)
{
	int rc = progenv_init(env);
	if (jobspec_cluster_mode(&r->job))
		return rc;
	for (size_t i = 0; i < r->job.env.keys.len; i++)
		progenv_set(env, r->job.env.keys.items[i], r->job.env.values.items[i]);
	for (size_t i = 0; i < r->jdbc.keys.len; i++)
		progenv_set(env, r->jdbc.keys.items[i], r->jdbc.values.items[i]);
	for (size_t i = 0; i < r->passwords.len; i++) {
		char *name = sparkconn_var(r->job.connections.items[i], "PASSWORD");
		progenv_set(env, name, r->passwords.items[i]);
		free(name);
	}
	progenv_set(env, "TINYRUN_RESULT_FILE", result_file);
	return rc;
}

static void on_line(void *ctx, const char *line, size_t len)
{
	k8s_status_line(ctx, line, len);
}

static void add_string_or_null(cJSON *obj, const char *key, const char *value)
{
	if (value && *value)
		cJSON_AddStringToObject(obj, key, value);
	else
		cJSON_AddNullToObject(obj, key);
}

/* Cluster mode on Kubernetes: spark-submit exited 0, the client's final report says how the
 * driver ended. */
static int cluster_outcome(const struct run *r, cJSON *res)
{
	char why[300];
	int code = k8s_status_exit(&r->status, driver_container, why, sizeof why);
	const struct k8s_container *c = k8s_status_driver(&r->status, driver_container);
	add_string_or_null(res, "submission_id", r->status.submission_id);
	add_string_or_null(res, "driver_phase", r->status.phase);
	add_string_or_null(res, "termination_reason", c ? c->reason : NULL);
	if (c && c->has_exit_code)
		cJSON_AddNumberToObject(res, "driver_exit_code", c->exit_code);
	else
		cJSON_AddNullToObject(res, "driver_exit_code");
	if (code < 0) {
		cJSON_AddStringToObject(res, "final_state", "UNKNOWN");
		return result_fail(TR_EXIT_FAILED, "driver_status", "%s; the job is not taken as done", why);
	}
	cJSON_AddStringToObject(res, "final_state", code == 0 ? "SUCCEEDED" : "FAILED");
	if (code)
		log_error("driver_failed", "the driver exited %d (%s)", code,
		          c && *c->reason ? c->reason : "no reason");
	return code;
}

static int outcome(const struct run *r, const struct child_status *st)
{
	cJSON *res = result_object();
	if (*r->status.app_id) /* else the job may name it in its result file */
		cJSON_AddStringToObject(res, "application_id", r->status.app_id);
	cJSON_AddNumberToObject(res, "spark_submit_exit_code", st->exit_code);
	if (st->timed_out)
		return result_fail(TR_EXIT_FAILED, "timeout", "the job ran longer than --timeout (%ld ms)", timeout_ms);
	int code = child_exit_code(st);
	bool k8s_cluster = jobspec_master_kind(&r->job) == MASTER_K8S && jobspec_cluster_mode(&r->job);
	if (k8s_cluster && code == 0 && !st->stop_signal)
		return cluster_outcome(r, res);
	cJSON_AddNumberToObject(res, "driver_exit_code", code);
	cJSON_AddStringToObject(res, "final_state", code == 0 ? "SUCCEEDED" : st->stop_signal ? "KILLED" : "FAILED");
	return code;
}

static int run_job(struct run *r)
{
	struct result_file rf;
	int rc = result_file_create(&rf);
	if (rc != TR_EXIT_OK)
		return rc;
	struct strlist env = { 0 };
	rc = driver_env(r, rf.path, &env);
	struct tap tap;
	log_info("start", "running %s on %s (%s mode)", r->job.application, r->job.master, r->job.deploy_mode);
	if (rc == TR_EXIT_OK && tap_start(&tap, STDERR_FILENO, on_line, &r->status) < 0)
		rc = result_fail(TR_EXIT_FAILED, "tap", "cannot read spark-submit's output: %m");
	if (rc == TR_EXIT_OK) {
		struct child_opts co = { .timeout_ms = timeout_ms,
			                 .grace_ms = grace_ms,
			                 .envp = strlist_terminate(&env) };
		struct child_status st;
		char err[300];
		int started = child_run(spark_submit, strlist_terminate(&r->argv), &co, &st, err, sizeof err);
		tap_stop(&tap);
		rc = started < 0
		             ? result_fail(TR_EXIT_USAGE, "start", "%s (is --spark-submit right for this image?)", err)
		             : outcome(r, &st);
		rc = result_file_merge(&rf, rc);
		if (!cJSON_HasObjectItem(result_object(), "application_id"))
			cJSON_AddNullToObject(result_object(), "application_id");
	}
	strlist_free(&env);
	result_file_remove(&rf);
	return rc;
}

static int submit_main(const struct cmd *cmd, int argc, char **argv)
{
	struct strlist positional = { 0 };
	struct run r;
	memset(&r, 0, sizeof r);
	k8s_status_init(&r.status);
	int rc = cli_parse(cmd, argc, argv, &positional);
	if (rc == TR_EXIT_OK)
		rc = prepare(&r, &positional);
	if (rc == TR_EXIT_OK)
		rc = run_job(&r);
	jobspec_free(&r.job);
	strlist_free(&r.jdbc.keys);
	strlist_free(&r.jdbc.values);
	strlist_free(&r.passwords);
	strlist_free(&r.argv);
	strlist_free(&positional);
	return rc;
}

/* clang-format off */
static const struct opt submit_opts[] = {
	{ "job", 0, OPT_STRING, &jf.job_file, "FILE", "the job spec (JSON); also the first argument", 0 },
	{ "job-json", 0, OPT_STRING, &jf.job_json, "JSON", "the job spec itself (what the DAG factory passes)", 0 },
	{ "application", 0, OPT_STRING, &jf.application, "FILE", "the .py or .jar to run", 0 },
	{ "main-class", 0, OPT_STRING, &jf.main_class, "CLASS", "a .jar application's main class", 0 },
	{ "master", 0, OPT_STRING, &jf.master, "URL", "local[N], spark://HOST:PORT or k8s://https://HOST", 0 },
	{ "deploy-mode", 0, OPT_STRING, &jf.deploy_mode, "MODE", "client (default) or cluster", 0 },
	{ "name", 0, OPT_STRING, &jf.name, "NAME", "the application's name", 0 },
	{ "conf", 0, OPT_LIST, &jf.conf, "KEY=VALUE", "a Spark setting", 0 },
	{ "env", 0, OPT_LIST, &jf.env, "NAME=VALUE", "an environment variable of the driver", 0 },
	{ "jar", 0, OPT_LIST, &jf.jars, "FILE", "an extra jar", 0 },
	{ "py-file", 0, OPT_LIST, &jf.py_files, "FILE", "an extra .py/.zip/.egg for the Python path", 0 },
	{ "file", 0, OPT_LIST, &jf.files, "FILE", "a file to ship with the job", 0 },
	{ "driver-memory", 0, OPT_STRING, &jf.driver_memory, "SIZE", "e.g. 512m, 2g", 0 },
	{ "driver-cores", 0, OPT_INT, &jf.driver_cores, "N", "the driver's cores", 0 },
	{ "executor-memory", 0, OPT_STRING, &jf.executor_memory, "SIZE", "e.g. 2g", 0 },
	{ "executor-cores", 0, OPT_INT, &jf.executor_cores, "N", "each executor's cores", 0 },
	{ "num-executors", 0, OPT_INT, &jf.num_executors, "N", "how many executors", 0 },
	{ "conn", 0, OPT_LIST, &jf.conns, "ID", "an Airflow connection the job uses over JDBC", 0 },
	{ "spark-submit", 0, OPT_STRING, &spark_submit, "PATH", "spark-submit (default: from PATH)", 0 },
	{ "timeout", 0, OPT_DURATION, &timeout_ms, "DURATION", "stop the job after this long (0 = none)", 0 },
	{ "grace", 0, OPT_DURATION, &grace_ms, "DURATION",
	  "after SIGTERM (forwarded, or at the timeout), SIGKILL after this long (default 8s)", 0 },
	{ "k8s-namespace", 0, OPT_STRING, &policy.namespace_name, "NS", "platform: the namespace of k8s:// jobs", 0 },
	{ "k8s-service-account", 0, OPT_STRING, &policy.service_account, "NAME",
	  "platform: the driver's service account", 0 },
	{ "k8s-image", 0, OPT_STRING, &policy.image, "IMAGE@sha256:...", "platform: the pinned Spark image", 0 },
	{ "k8s-driver-pod-template", 0, OPT_STRING, &policy.driver_pod_template, "FILE", "platform: driver pod template", 0 },
	{ "k8s-executor-pod-template", 0, OPT_STRING, &policy.executor_pod_template, "FILE",
	  "platform: executor pod template", 0 },
	{ "k8s-conn-secret-prefix", 0, OPT_STRING, &policy.conn_secret_prefix, "PREFIX",
	  "platform: connection ID's Kubernetes Secret is PREFIX<id>, key uri (default airflow-conn-)", 0 },
	{ "driver-container", 0, OPT_STRING, &driver_container, "NAME",
	  "the driver pod's Spark container (default spark-kubernetes-driver)", 0 },
	{ 0 }
};

const struct cmd cmd_submit = {
	.name = "spark-submit-runner submit",
	.usage = "[JOB.json] [flags] [-- ARGS...]",
	.summary = "run a Spark job with spark-submit and exit with the driver's real status",
	.description =
		"The job spec is JSON: {\"application\": \"jobs/agg.py\", \"master\": \"local[2]\", \"deploy_mode\":\n"
		"\"client\", \"conf\": {...}, \"env\": {...}, \"jars\": [...], \"py_files\": [...], \"files\": [...],\n"
		"\"args\": [...], \"connections\": [...], \"main_class\", \"name\", \"driver_memory\", \"driver_cores\",\n"
		"\"executor_memory\", \"executor_cores\", \"num_executors\"}. Flags set or extend its fields;\n"
		"ARGS follow the spec's args. A .yaml spec is read only in YAML's JSON form: the DAG factory\n"
		"(runner: spark) turns YAML into --job-json.\n"
		"\n"
		"Connections (--conn ID or \"connections\"; postgres, mssql): the driver gets AIRFLOW_CONN_<ID>\n"
		"and TINYRUN_JDBC_<ID>_URL, _DRIVER, _USER and, in local and client mode, _PASSWORD, as\n"
		"environment only. On Kubernetes, AIRFLOW_CONN_<ID> reaches the driver (cluster mode) and the\n"
		"executors as a secret reference to the Secret <prefix><id>, key uri.\n"
		"\n"
		"In local and client mode the driver's environment also has TINYRUN_RESULT_FILE: a JSON object\n"
		"written there joins the result line (application_id, final_state, driver_exit_code, ...).\n"
		"\n"
		"Exit code: the driver's. Local and client mode: spark-submit's own, which is the driver's.\n"
		"Kubernetes cluster mode: spark-submit exits 0 whatever the driver did, so the runner reads the\n"
		"client's final container status (waitAppCompletion is forced on) and exits with the driver's\n"
		"exit code; 1 when the report is missing or says nothing of the driver. SIGTERM is forwarded to\n"
		"spark-submit's process group (the JVM, the Python driver); 128+N when it does not end in time.\n"
		"2: a bad spec, a missing application file, an unusable connection, a policy refusal.\n"
		"\n"
		"Example:\n"
		"  spark-submit-runner submit job.json --conn warehouse -- --date 2026-01-31\n",
	.opts = submit_opts,
	.run = submit_main,
};
/* clang-format on */
