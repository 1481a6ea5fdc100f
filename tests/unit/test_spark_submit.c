/* Unit tests: spark-submit-runner's pure parts. The Kubernetes submission client's status reports
 * are Spark's own text (LoggingPodStatusWatcherImpl and KubernetesUtils.containersDescription, as
 * in Spark 4.3.0's spark-kubernetes jar), plain and in structured-logging JSON; the job spec; the
 * spark-submit command line and its policy; JDBC settings from connections. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobspec.h"
#include "k8sstatus.h"
#include "redact.h"
#include "sparkcmd.h"
#include "sparkconn.h"
#include "tt.h"

#define P   "26/12/01 06:20:11 INFO LoggingPodStatusWatcherImpl: "
#define IMG "registry.example/team/spark@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* One driver pod's life as the client logs it, ending with the driver's exit code and reason. */
static const char *report_head =
        P "Waiting for application etl-agg} with application ID spark-4c1b2f0e9a7d4b1c and submission ID "
          "data-team:etl-agg-3f2a-driver to finish...\n" P "Application status for spark-4c1b2f0e9a7d4b1c (phase: "
          "Running)\n" P "State changed, new state:\n"
          "\t pod name: etl-agg-3f2a-driver\n"
          "\t namespace: data-team\n"
          "\t labels: spark-app-name -> etl-agg, spark-role -> driver, spark-version -> 4.3.0\n"
          "\t pod uid: 5a1e0c2d-1111-2222-3333-444455556666\n"
          "\t creation time: 2026-12-01T06:19:40Z\n"
          "\t service account name: spark-jobs\n"
          "\t volumes: spark-local-dir-1, spark-conf-volume-driver\n"
          "\t node name: node-1\n"
          "\t start time: 2026-12-01T06:19:40Z\n";

static void feed(struct k8s_status *s, const char *text)
{
	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t len = nl ? (size_t)(nl - text) : strlen(text);
		k8s_status_line(s, text, len);
		text += len + (nl ? 1 : 0);
	}
}

static void feed_report(struct k8s_status *s, const char *phase, const char *state, const char *code,
                        const char *reason)
{
	char buf[4096];
	k8s_status_init(s);
	feed(s, report_head);
	snprintf(buf, sizeof buf,
	         "\t phase: %s\n"
	         "\t container status: \n"
	         "\t\t container name: spark-kubernetes-driver\n"
	         "\t\t container image: " IMG "\n"
	         "\t\t container state: %s\n"
	         "\t\t exit code: %s\n" P "Application status for spark-4c1b2f0e9a7d4b1c (phase: %s)\n" P
	         "Container final statuses:\n\n\n"
	         "\t container name: spark-kubernetes-driver\n"
	         "\t container image: " IMG "\n"
	         "\t container state: %s\n"
	         "\t container started at: 2026-12-01T06:19:42Z\n"
	         "\t container finished at: 2026-12-01T06:20:10Z\n"
	         "\t exit code: %s\n"
	         "\t termination reason: %s\n" P "Application etl-agg with application ID spark-4c1b2f0e9a7d4b1c and "
	         "submission ID data-team:etl-agg-3f2a-driver finished\n",
	         phase, state, code, phase, state, code, reason);
	feed(s, buf);
}

static void k8s_failed_driver_exits_with_its_code(void)
{
	struct k8s_status s;
	char why[200];
	feed_report(&s, "Failed", "terminated", "3", "Error");
	CHECK_STR(s.app_id, "spark-4c1b2f0e9a7d4b1c");
	CHECK_STR(s.submission_id, "data-team:etl-agg-3f2a-driver");
	CHECK_STR(s.phase, "Failed");
	CHECK(s.final_seen && s.finished);
	CHECK_INT(s.n_containers, 1);
	CHECK_STR(s.containers[0].reason, "Error");
	CHECK_INT(k8s_status_exit(&s, SPARK_DRIVER_CONTAINER, why, sizeof why), 3);
}

static void k8s_succeeded_driver_exits_0(void)
{
	struct k8s_status s;
	char why[200];
	feed_report(&s, "Succeeded", "terminated", "0", "Completed");
	CHECK_INT(k8s_status_exit(&s, SPARK_DRIVER_CONTAINER, why, sizeof why), 0);
}

static void k8s_exit_0_in_a_failed_pod_is_a_failure(void)
{
	struct k8s_status s;
	char why[200];
	feed_report(&s, "Failed", "terminated", "0", "Completed");
	CHECK_INT(k8s_status_exit(&s, SPARK_DRIVER_CONTAINER, why, sizeof why), 1);
}

static void k8s_unknown_endings_are_never_0(void)
{
	struct k8s_status s;
	char why[200];
	k8s_status_init(&s); /* the client died before any report */
	feed(&s, report_head);
	CHECK_INT(k8s_status_exit(&s, SPARK_DRIVER_CONTAINER, why, sizeof why), -1);
	CHECK_CONTAINS(why, "no final status");
	feed_report(&s, "Running", "running", "N/A", "N/A"); /* the pod was deleted while running */
	CHECK_INT(k8s_status_exit(&s, SPARK_DRIVER_CONTAINER, why, sizeof why), -1);
	CHECK_CONTAINS(why, "running");
	feed_report(&s, "Failed", "terminated", "oops", "Error");
	CHECK_INT(k8s_status_exit(&s, SPARK_DRIVER_CONTAINER, why, sizeof why), -1);
	k8s_status_init(&s);
	feed(&s, P "No containers were found in the driver pod.\n");
	CHECK(s.final_seen);
	CHECK_INT(k8s_status_exit(&s, SPARK_DRIVER_CONTAINER, why, sizeof why), -1);
	feed_report(&s, "Failed", "terminated", "300", "Error"); /* beyond an exit status: still a failure */
	CHECK_INT(k8s_status_exit(&s, SPARK_DRIVER_CONTAINER, why, sizeof why), 1);
}

static void k8s_driver_found_among_sidecars(void)
{
	struct k8s_status s;
	char why[200];
	k8s_status_init(&s);
	feed(&s, P "Container final statuses:\n\n\n"
	           "\t container name: istio-proxy\n\t container image: proxy:1\n\t container state: terminated\n"
	           "\t exit code: 0\n\t termination reason: Completed\n\n\n"
	           "\t container name: spark-kubernetes-driver\n\t container image: " IMG "\n"
	           "\t container state: terminated\n\t exit code: 137\n\t termination reason: OOMKilled\n");
	CHECK_INT(s.n_containers, 2);
	CHECK_STR(k8s_status_driver(&s, SPARK_DRIVER_CONTAINER)->reason, "OOMKilled");
	CHECK_INT(k8s_status_exit(&s, SPARK_DRIVER_CONTAINER, why, sizeof why), 137);
	CHECK_INT(k8s_status_exit(&s, "spark", why, sizeof why), -1); /* two containers, none named so */
}

static void k8s_structured_logging_json(void)
{
	struct k8s_status s;
	char why[200];
	k8s_status_init(&s);
	feed(&s, "{\"ts\":\"2026-12-01T06:20:11.123Z\",\"level\":\"INFO\",\"msg\":\"Waiting for application etl} with "
	         "application ID spark-99 and submission ID ns:etl-driver to finish...\",\"context\":{\"app_id\":"
	         "\"spark-99\"},\"logger\":\"LoggingPodStatusWatcherImpl\"}\n"
	         "{\"ts\":\"2026-12-01T06:20:12Z\",\"level\":\"INFO\",\"msg\":\"Container final statuses:\\n\\n\\n\\t "
	         "container name: spark-kubernetes-driver\\n\\t container image: img\\n\\t container state: "
	         "terminated\\n\\t exit code: 42\\n\\t termination reason: Error\",\"logger\":\"x\"}\n");
	CHECK_STR(s.app_id, "spark-99");
	CHECK_STR(s.submission_id, "ns:etl-driver");
	CHECK_INT(k8s_status_exit(&s, SPARK_DRIVER_CONTAINER, why, sizeof why), 42);
}

static void k8s_standalone_app_id(void)
{
	struct k8s_status s;
	k8s_status_init(&s);
	feed(&s, "26/12/01 06:20:11 INFO StandaloneSchedulerBackend: Connected to Spark cluster with app ID "
	         "app-20261201062011-0007\n");
	CHECK_STR(s.app_id, "app-20261201062011-0007");
}

static int parse(const char *json, struct spark_job *job, char *err, size_t errlen)
{
	return jobspec_parse(json, strlen(json), job, err, errlen);
}

static void jobspec_reads_every_field(void)
{
	struct spark_job j;
	char err[400] = "";
	CHECK_INT(parse("{\"name\":\"agg\",\"application\":\"app.jar\",\"main_class\":\"com.x.Main\",\"master\":"
	                "\"local[2]\",\"conf\":{\"spark.sql.shuffle.partitions\":4,\"spark.ui.enabled\":false},"
	                "\"env\":{\"TZ\":\"UTC\"},\"jars\":[\"a.jar\"],\"py_files\":[],\"files\":[\"f.txt\"],"
	                "\"args\":[\"--day\",1],\"connections\":[\"wh\"],\"driver_memory\":\"512m\","
	                "\"driver_cores\":1,\"executor_memory\":\"2g\",\"executor_cores\":2,\"num_executors\":3}",
	                &j, err, sizeof err),
	          0);
	CHECK_STR(err, "");
	CHECK_STR(j.deploy_mode, "client");
	CHECK_INT(j.conf.keys.len, 2);
	CHECK_STR(j.conf.values.items[0], "4");
	CHECK_STR(j.conf.values.items[1], "false");
	CHECK_STR(j.args.items[1], "1");
	CHECK_INT(j.num_executors, 3);
	CHECK_INT(jobspec_master_kind(&j), MASTER_LOCAL);
	jobspec_free(&j);
}

/* Numbers beyond a long long's range are written as numbers, not cast (a fuzzer's find). */
static void jobspec_huge_numbers(void)
{
	struct spark_job j;
	char err[400] = "";
	CHECK_INT(parse("{\"application\":\"a.py\",\"master\":\"local\",\"args\":[1e26,-1e300,9007199254740992],"
	                "\"conf\":{\"spark.x\":1.5}}",
	                &j, err, sizeof err),
	          0);
	CHECK_STR(j.args.items[0], "1e+26");
	CHECK_STR(j.args.items[1], "-1.0000000000000001e+300");
	CHECK_STR(j.args.items[2], "9007199254740992");
	CHECK_STR(j.conf.values.items[0], "1.5");
	jobspec_free(&j);
}

static void jobspec_refuses_bad_specs(void)
{
	static const char *const bad[][2] = {
		{ "[1]", "JSON object" },
		{ "{\"application\":\"a.py\",\"master\":\"local\",", "not valid JSON" },
		{ "{\"application\":\"a.py\",\"master\":\"local\",\"mastr\":1}", "unknown field 'mastr'" },
		{ "{\"master\":\"local\"}", "'application' is missing" },
		{ "{\"application\":\"a.sh\",\"master\":\"local\"}", ".py or a .jar" },
		{ "{\"application\":\"a.jar\",\"master\":\"local\"}", "'main_class' is missing" },
		{ "{\"application\":\"a.py\"}", "'master' is missing" },
		{ "{\"application\":\"a.py\",\"master\":\"yarn\"}", "'master' must be" },
		{ "{\"application\":\"a.py\",\"master\":\"local[x]\"}", "'master' must be" },
		{ "{\"application\":\"a.py\",\"master\":\"local\",\"deploy_mode\":\"cluster\"}", "cluster master" },
		{ "{\"application\":\"a.py\",\"master\":\"local\",\"deploy_mode\":\"remote\"}", "client or cluster" },
		{ "{\"application\":\"a.py\",\"master\":\"local\",\"conf\":{\"sql.x\":1}}", "not a Spark setting" },
		{ "{\"application\":\"a.py\",\"master\":\"local\",\"conf\":{\"spark.x\":[1]}}", "one-line" },
		{ "{\"application\":\"a.py\",\"master\":\"local\",\"env\":{\"1X\":\"a\"}}", "not a variable name" },
		{ "{\"application\":\"a.py\",\"master\":\"local\",\"driver_memory\":\"lots\"}", "memory size" },
		{ "{\"application\":\"a.py\",\"master\":\"local\",\"driver_cores\":0}", "whole number" },
		{ "{\"application\":\"a.py\",\"master\":\"local\",\"jars\":[\"a,b.jar\"]}", "comma" },
		{ "{\"application\":\"a.py\",\"master\":\"local\",\"connections\":[\"a-b\"]}", "connection ID" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct spark_job j;
		char err[400] = "";
		CHECK_INT(parse(bad[i][0], &j, err, sizeof err), -1);
		CHECK_CONTAINS(err, bad[i][1]);
		jobspec_free(&j);
	}
}

static char *joined(const struct strlist *l)
{
	size_t n = 1;
	for (size_t i = 0; i < l->len; i++)
		n += strlen(l->items[i]) + 1;
	char *s = calloc(1, n);
	for (size_t i = 0; i < l->len; i++) {
		strcat(s, l->items[i]);
		if (i + 1 < l->len)
			strcat(s, " ");
	}
	return s;
}

/* Build the command line for json under pol; returns the joined argv or the error. */
static char *build(const char *json, const struct k8s_policy *pol, int want_rc)
{
	struct spark_job j;
	struct strlist argv = { 0 };
	struct kvlist jdbc = { { 0 }, { 0 } };
	char err[400] = "";
	CHECK_INT(parse(json, &j, err, sizeof err), 0);
	strlist_push(&jdbc.keys, "TINYRUN_JDBC_WH_URL");
	strlist_push(&jdbc.values, "jdbc:postgresql://db:5432/dwh");
	int rc = sparkcmd_build("spark-submit", &j, pol, &jdbc, &argv, err, sizeof err);
	CHECK_INT(rc, want_rc);
	char *out = rc == 0 ? joined(&argv) : strdup(err);
	strlist_free(&argv);
	strlist_free(&jdbc.keys);
	strlist_free(&jdbc.values);
	jobspec_free(&j);
	return out;
}

static const struct k8s_policy platform = { "data-team", "spark-jobs", IMG, "/tpl/driver.yaml", NULL, "airflow-conn-" };

static void sparkcmd_local_command_line(void)
{
	char *cmd = build("{\"application\":\"jobs/a.py\",\"master\":\"local[1]\",\"name\":\"agg\",\"py_files\":"
	                  "[\"lib.zip\",\"u.py\"],\"driver_memory\":\"512m\",\"conf\":{\"spark.ui.enabled\":false},"
	                  "\"args\":[\"--day\",\"x y\"]}",
	                  &platform, 0);
	CHECK_STR(cmd, "spark-submit --master local[1] --deploy-mode client --name agg --py-files lib.zip,u.py "
	               "--driver-memory 512m --conf spark.ui.enabled=false jobs/a.py --day x y");
	free(cmd);
}

static void sparkcmd_k8s_policy_applied(void)
{
	char *cmd = build("{\"application\":\"local:///opt/app.jar\",\"main_class\":\"M\",\"master\":"
	                  "\"k8s://https://api:6443\",\"deploy_mode\":\"cluster\",\"connections\":[\"wh\"],"
	                  "\"env\":{\"TZ\":\"UTC\"}}",
	                  &platform, 0);
	CHECK_CONTAINS(cmd, "--conf spark.kubernetes.namespace=data-team");
	CHECK_CONTAINS(cmd, "--conf spark.kubernetes.authenticate.driver.serviceAccountName=spark-jobs");
	CHECK_CONTAINS(cmd, "--conf spark.kubernetes.container.image=" IMG);
	CHECK_CONTAINS(cmd, "--conf spark.kubernetes.submission.waitAppCompletion=true");
	CHECK_CONTAINS(cmd, "--conf spark.kubernetes.driver.podTemplateFile=/tpl/driver.yaml");
	CHECK_CONTAINS(cmd, "spark.kubernetes.driver.secretKeyRef.AIRFLOW_CONN_WH=airflow-conn-wh:uri");
	CHECK_CONTAINS(cmd, "spark.kubernetes.executor.secretKeyRef.AIRFLOW_CONN_WH=airflow-conn-wh:uri");
	CHECK_CONTAINS(cmd, "spark.kubernetes.driverEnv.TINYRUN_JDBC_WH_URL=jdbc:postgresql://db:5432/dwh");
	CHECK_CONTAINS(cmd, "spark.kubernetes.driverEnv.TZ=UTC");
	CHECK_CONTAINS(cmd, "--class M");
	free(cmd);
}

static void sparkcmd_policy_refusals(void)
{
	struct k8s_policy unpinned = platform, missing = platform;
	unpinned.image = "registry.example/team/spark:latest";
	missing.service_account = NULL;
	const char *k8s = "{\"application\":\"local:///a.py\",\"master\":\"k8s://https://api\",\"deploy_mode\":"
	                  "\"cluster\"}";
	char *e = build(k8s, &unpinned, -1);
	CHECK_CONTAINS(e, "pinned by digest");
	free(e);
	e = build(k8s, &missing, -1);
	CHECK_CONTAINS(e, "--k8s-service-account");
	free(e);
	e = build("{\"application\":\"a.py\",\"master\":\"local\",\"conf\":{\"spark.kubernetes.namespace\":\"x\"}}",
	          &platform, -1);
	CHECK_CONTAINS(e, "set by the platform");
	free(e);
	e = build("{\"application\":\"a.py\",\"master\":\"local\",\"conf\":{\"spark.kubernetes.submission."
	          "waitAppCompletion\":false}}",
	          &platform, -1);
	CHECK_CONTAINS(e, "set by the platform");
	free(e);
	e = build("{\"application\":\"a.py\",\"master\":\"local\",\"conf\":{\"spark.hadoop.fs.s3a.secret.key\":\"x\"}}",
	          &platform, -1);
	CHECK_CONTAINS(e, "looks like a secret");
	free(e);
	e = build("{\"application\":\"a.py\",\"master\":\"local\",\"conf\":{\"spark.kubernetes.driver.secretKeyRef."
	          "S3_KEY\":\"s3:key\"}}",
	          &platform, 0);
	CHECK_CONTAINS(e, "secretKeyRef.S3_KEY=s3:key");
	free(e);
}

static void sparkconn_postgres_and_refusals(void)
{
	struct kvlist plain = { { 0 }, { 0 } };
	char *password = NULL, err[400] = "";
	setenv("AIRFLOW_CONN_WH", "postgresql://etl:s%40cret@db.example:5433/dwh?sslmode=require", 1);
	CHECK_INT(sparkconn_jdbc("wh", &plain, &password, err, sizeof err), 0);
	CHECK_STR(plain.keys.items[0], "TINYRUN_JDBC_WH_URL");
	CHECK_STR(plain.values.items[0], "jdbc:postgresql://db.example:5433/dwh?sslmode=require");
	CHECK_STR(plain.values.items[1], "org.postgresql.Driver");
	CHECK_STR(plain.values.items[2], "etl");
	CHECK_STR(password, "s@cret");
	char *shown = redact_dup("pw s@cret");
	CHECK_STR(shown, "pw ***"); /* the connection's password is registered for redaction */
	free(shown);
	free(password);
	setenv("AIRFLOW_CONN_SQL", "mssql://u:pw12@sql.example/sales?encrypt=true", 1);
	CHECK_INT(sparkconn_jdbc("sql", &plain, &password, err, sizeof err), 0);
	CHECK_STR(plain.values.items[3], "jdbc:sqlserver://sql.example:1433;databaseName=sales;encrypt=true");
	free(password);
	setenv("AIRFLOW_CONN_WEB", "http://example.com", 1);
	CHECK_INT(sparkconn_jdbc("web", &plain, &password, err, sizeof err), 2);
	CHECK_CONTAINS(err, "type 'http'");
	CHECK_CONTAINS(err, "supported: postgres, mssql");
	CHECK_INT(sparkconn_jdbc("absent", &plain, &password, err, sizeof err), 2);
	CHECK_CONTAINS(err, "AIRFLOW_CONN_ABSENT");
	strlist_free(&plain.keys);
	strlist_free(&plain.values);
}

TT_MAIN(TT_CASE(k8s_failed_driver_exits_with_its_code), TT_CASE(k8s_succeeded_driver_exits_0),
        TT_CASE(k8s_exit_0_in_a_failed_pod_is_a_failure), TT_CASE(k8s_unknown_endings_are_never_0),
        TT_CASE(k8s_driver_found_among_sidecars), TT_CASE(k8s_structured_logging_json), TT_CASE(k8s_standalone_app_id),
        TT_CASE(jobspec_reads_every_field), TT_CASE(jobspec_huge_numbers), TT_CASE(jobspec_refuses_bad_specs),
        TT_CASE(sparkcmd_local_command_line), TT_CASE(sparkcmd_k8s_policy_applied), TT_CASE(sparkcmd_policy_refusals),
        TT_CASE(sparkconn_postgres_and_refusals))
