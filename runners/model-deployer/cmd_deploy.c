/* cmd_deploy: `model-deployer plan|apply|drift`, the models against every target. */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "commands.h"
#include "ddl.h"
#include "deploy.h"
#include "exitcode.h"
#include "log.h"
#include "result.h"
#include "sqlconn.h"
#include "targets.h"

static struct {
	const char *models;
	const char *targets;
	const char *targets_file;
	long parallel;
	bool allow_destructive;
} opts = { .parallel = 4 };

/* clang-format off */
#define DEPLOY_OPTS                                                                                 \
	{ "models", 0, OPT_STRING, &opts.models, "PATH", "the models: a folder of *.yml files, or one file", 0 }, \
	{ "targets", 0, OPT_STRING, &opts.targets, "ID,ID", "the target connections (Airflow connection ids)", 0 }, \
	{ "targets-file", 0, OPT_STRING, &opts.targets_file, "PATH",                                 \
	  "a file of target connection ids, one per line (# comments)", 0 },                          \
	{ "parallel", 0, OPT_INT, &opts.parallel, "N", "deploy at most N targets at a time (default 4)", 0 }, \
	SQL_CONN_OPTS
/* clang-format on */

static const struct opt plan_opts[] = { DEPLOY_OPTS, { 0 } };
static const struct opt apply_opts[] = {
	DEPLOY_OPTS,
	{ "allow-destructive", 0, OPT_BOOL, &opts.allow_destructive, NULL,
	  "also apply destructive changes (drop a column or table, narrow a type, NOT NULL over NULLs)", 0 },
	{ 0 }
};

/* Each target's script on stdout: the plan for review, in target order. */
static void print_scripts(const cJSON *results)
{
	struct buf out = BUF_INIT;
	for (const cJSON *r = results->child; r; r = r->next) {
		const cJSON *changes = cJSON_GetObjectItem(r, "changes"), *err = cJSON_GetObjectItem(r, "error");
		const char *engine = cJSON_GetStringValue(cJSON_GetObjectItem(r, "engine"));
		buf_printf(&out, "-- target %s (%s): %s, %d change%s\n",
		           cJSON_GetStringValue(cJSON_GetObjectItem(r, "target")), engine ? engine : "?",
		           cJSON_GetStringValue(cJSON_GetObjectItem(r, "status")), cJSON_GetArraySize(changes),
		           cJSON_GetArraySize(changes) == 1 ? "" : "s");
		if (err)
			buf_printf(&out, "-- error: %s\n", cJSON_GetStringValue(err));
		for (const cJSON *c = changes ? changes->child : NULL; c; c = c->next) {
			const cJSON *note = cJSON_GetObjectItem(c, "note");
			if (cJSON_IsTrue(cJSON_GetObjectItem(c, "destructive")))
				buf_printf(&out, "-- DESTRUCTIVE: %s\n",
				           cJSON_GetStringValue(cJSON_GetObjectItem(c, "reason")));
			if (note)
				buf_printf(&out, "-- note: %s\n", cJSON_GetStringValue(note));
			for (const cJSON *s = cJSON_GetObjectItem(c, "sql")->child; s; s = s->next)
				buf_printf(&out, "%s%s\n", s->valuestring,
				           ddl_terminator(engine && strcmp(engine, "mssql") == 0 ? ENGINE_MSSQL
				                                                                 : ENGINE_POSTGRES));
		}
	}
	fputs(buf_str(&out), stdout);
	buf_free(&out);
}

static void summarise(const cJSON *results, enum deploy_mode mode)
{
	static const char *const names[] = { "plan", "apply", "drift" };
	int ok = 0, changed = 0, n = 0;
	for (const cJSON *r = results->child; r; r = r->next, n++) {
		ok += cJSON_GetNumberValue(cJSON_GetObjectItem(r, "exit_code")) == 0;
		changed += cJSON_GetArraySize(cJSON_GetObjectItem(r, "changes")) > 0;
	}
	cJSON *res = result_object();
	cJSON_AddStringToObject(res, "mode", names[mode]);
	cJSON_AddNumberToObject(res, "targets_ok", ok);
	cJSON_AddNumberToObject(res, "targets_failed", n - ok);
	cJSON_AddNumberToObject(res, "targets_with_changes", changed);
	log_info(names[mode], "%d of %d targets ok, %d with changes", ok, n, changed);
}

static int deploy_main(const struct cmd *cmd, int argc, char **argv, enum deploy_mode mode)
{
	struct strlist args = { 0 }, ids = { 0 };
	struct model_set m = { 0 };
	if (sql_opts.lock_timeout_ms == 0)
		sql_opts.lock_timeout_ms = 10000; /* DDL waits for a lock at most this long (--lock-timeout) */
	int rc = cli_parse(cmd, argc, argv, &args);
	if (rc == TR_EXIT_OK && args.len)
		rc = result_fail(TR_EXIT_USAGE, "usage", "unexpected argument '%s'; see '%s --help'", args.items[0],
		                 cmd->name);
	if (rc == TR_EXIT_OK && opts.parallel < 1)
		rc = result_fail(TR_EXIT_USAGE, "usage", "--parallel must be at least 1");
	if (rc == TR_EXIT_OK)
		rc = load_models(opts.models, &m);
	if (rc == TR_EXIT_OK && sql_opts.conn_id)
		strlist_push(&ids, sql_opts.conn_id);
	if (rc == TR_EXIT_OK)
		rc = targets_collect(opts.targets, opts.targets_file, &ids);
	if (rc == TR_EXIT_OK) {
		struct deploy d = { mode, opts.allow_destructive, &m };
		cJSON *results = cJSON_AddArrayToObject(result_object(), "targets");
		rc = targets_run(&ids, opts.parallel, deploy_target, &d, results);
		print_scripts(results);
		summarise(results, mode);
		if (rc && rc < TR_EXIT_SIGNAL_BASE)
			result_fail(rc, "targets", "%s failed on at least one target: see targets[].error",
			            mode == MODE_DRIFT   ? "the drift check"
			            : mode == MODE_APPLY ? "apply"
			                                 : "plan");
	}
	model_free(&m);
	strlist_free(&ids);
	strlist_free(&args);
	return rc;
}

static int plan_main(const struct cmd *cmd, int argc, char **argv)
{
	return deploy_main(cmd, argc, argv, MODE_PLAN);
}

static int apply_main(const struct cmd *cmd, int argc, char **argv)
{
	return deploy_main(cmd, argc, argv, MODE_APPLY);
}

static int drift_main(const struct cmd *cmd, int argc, char **argv)
{
	return deploy_main(cmd, argc, argv, MODE_DRIFT);
}

#define TARGETS_HELP                                                                                                   \
	"Targets are Airflow connections, postgres or mssql: --targets ID,ID and/or --targets-file PATH.\n"            \
	"Each target runs in a process of its own, --parallel at a time, in one transaction that takes\n"              \
	"the deployers' lock, reads the catalog (pg_catalog, or sys.* on SQL Server), diffs it against\n"              \
	"the models and (apply) runs the changes, waiting at most --lock-timeout (default 10s) for any\n"              \
	"lock. The connection flags apply to every target (SQL Server: the TLS and Kerberos settings of\n"             \
	"sqlserver-runner). Each target's plan is printed as a script; the result JSON lists per target\n"             \
	"the changes (kind, object, destructive, reason, note, sql), its status and exit code.\n"

const struct cmd cmd_plan = {
	.name = "model-deployer plan",
	.usage = "--models PATH --targets ID,ID [flags]",
	.summary = "show per target the DDL that would bring it to the models",
	.description =
	        TARGETS_HELP "\nChanges nothing. Exit 0 when every target could be planned, 75 when every failure\n"
	                     "was temporary, 1 otherwise; 2 on a bad model (before any target is touched).\n",
	.opts = plan_opts,
	.run = plan_main,
};

const struct cmd cmd_apply = {
	.name = "model-deployer apply",
	.usage = "--models PATH --targets ID,ID [--allow-destructive] [flags]",
	.summary = "bring every target to the models, one transaction per target",
	.description =
	        TARGETS_HELP "\nAdditive changes only, unless --allow-destructive: a plan with a destructive change\n"
	                     "(drop a column or table, narrow a type, NOT NULL over a column holding NULLs) is\n"
	                     "refused whole and listed. A failed target is rolled back and reported while the\n"
	                     "others go on. A second apply finds nothing to do. Exit 0 when all targets\n"
	                     "succeed, 75 when every failure was temporary, 1 otherwise, 143 on SIGTERM.\n",
	.opts = apply_opts,
	.run = apply_main,
};

const struct cmd cmd_drift = {
	.name = "model-deployer drift",
	.usage = "--models PATH --targets ID,ID [flags]",
	.summary = "exit 1 when any target differs from the models, listing what differs",
	.description = TARGETS_HELP "\nFor scheduled checks: changes nothing; exit 0 when every target matches the\n"
	                            "models, 1 when any differs (its changes are listed), 75 when only temporary\n"
	                            "failures kept targets from being checked.\n",
	.opts = plan_opts,
	.run = drift_main,
};
