/* cmd_run: `sqlserver-runner run FILE... | -c SQL`, sqlcmd scripts in one transaction: the script
 * is read and checked whole first (tsqlscript.h), then its batches run in order with
 * SET XACT_ABORT ON, and the first error rolls everything back (sqlcmd -b). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "clock.h"
#include "commands.h"
#include "exitcode.h"
#include "log.h"
#include "result.h"
#include "signals.h"
#include "sqlconn.h"
#include "sqlresult.h"
#include "strlist.h"
#include "tdsconn.h"
#include "tsqlscript.h"

static struct {
	struct strlist vars;
	const char *command;
	bool no_transaction;
} opts;

/* What a run keeps while it goes through the batches. */
struct run {
	struct mssql_session s;
	const struct tsql_batch *batch; /* the one running: for message locations */
	cJSON *list;
	long rows, executed;
};

static int load_vars(struct tsql_vars *vars)
{
	char err[512];
	for (size_t i = 0; i < opts.vars.len; i++) {
		const char *item = opts.vars.items[i], *eq = strchr(item, '=');
		if (!eq || eq == item)
			return result_fail(TR_EXIT_USAGE, "usage", "-v '%s': give a variable as NAME=VALUE", item);
		char *name = xstrndup(item, (size_t)(eq - item));
		int bad = tsql_vars_set(vars, name, eq + 1, err, sizeof err);
		free(name);
		if (bad)
			return result_fail(TR_EXIT_USAGE, "usage", "-v '%s': %s", item, err);
	}
	return TR_EXIT_OK;
}

static int load_script(const struct strlist *files, struct tsql_script *script)
{
	struct tsql_vars *vars = tsql_vars_new();
	char err[1024];
	int rc = load_vars(vars);
	for (size_t i = 0; rc == TR_EXIT_OK && i < files->len; i++)
		if (tsql_script_add_file(script, files->items[i], vars, err, sizeof err))
			rc = result_fail(TR_EXIT_USAGE, "script", "%s", err);
	if (rc == TR_EXIT_OK && opts.command &&
	    tsql_script_add_text(script, opts.command, strlen(opts.command), "-c", vars, err, sizeof err))
		rc = result_fail(TR_EXIT_USAGE, "script", "%s", err);
	tsql_vars_free(vars);
	if (rc == TR_EXIT_OK)
		log_info("script", "%zu batches read and checked", script->n);
	return rc;
}

/* PRINT and RAISERROR of severity 10 or less: info lines at the batch's script line. */
static void on_info(void *ctx, const struct mssql_message *m)
{
	const struct run *run = ctx;
	cJSON *f = cJSON_CreateObject();
	if (run->batch) {
		cJSON_AddStringToObject(f, "file", run->batch->file);
		cJSON_AddNumberToObject(f, "line", run->batch->line + (unsigned)(m->line > 0 ? m->line - 1 : 0));
	}
	cJSON_AddNumberToObject(f, "number", m->number);
	cJSON_AddNumberToObject(f, "severity", m->severity);
	log_event(LOG_LEVEL_INFO, "message", f, "%s", m->text);
}

/* The script line a server error points at: its line within the batch, from the batch's start. */
static void error_location(const struct run *run, char *where, size_t len)
{
	int line = run->s.error.line > 0 ? run->s.error.line - 1 : 0;
	snprintf(where, len, "%s:%u", run->batch->file, run->batch->line + (unsigned)line);
}

/* One execution of the batch: send, read every result, count the rows. */
static RETCODE exec_once(struct run *run, long *rows)
{
	struct mssql_session *s = &run->s;
	RETCODE rc = mssql_send(s, run->batch->sql, run->batch->len);
	while (rc != FAIL && (rc = mssql_results(s)) != NO_MORE_RESULTS) {
		if (rc == SUCCEED)
			while ((rc = dbnextrow(s->db)) != NO_MORE_ROWS && rc != FAIL)
				;
		if (DBCOUNT(s->db) > 0)
			*rows += DBCOUNT(s->db);
		if (s->dead || s->stopped)
			break;
	}
	return s->failed || s->timed_out || s->stopped || s->dead ? FAIL : SUCCEED;
}

/* An error under :on error ignore: go on, unless it cost us the transaction (XACT_ABORT). */
static int ignore_error(struct run *run)
{
	char where[512];
	error_location(run, where, sizeof where);
	log_warn("script", "%s: ignored (:on error ignore): Msg %d, Level %d: %s", where, run->s.error.number,
	         run->s.error.severity, run->s.error.text);
	if (opts.no_transaction)
		return TR_EXIT_OK;
	DBINT open = 0;
	struct mssql_session *s = &run->s;
	if (mssql_send(s, "SELECT @@TRANCOUNT", 18) == SUCCEED && mssql_results(s) == SUCCEED) {
		dbbind(s->db, 1, INTBIND, 0, (BYTE *)&open);
		while (dbnextrow(s->db) == REG_ROW)
			;
		while (mssql_results(s) == SUCCEED)
			;
	}
	if (open > 0)
		return TR_EXIT_OK;
	s->in_transaction = false;
	return result_fail(TR_EXIT_FAILED, "script",
	                   "%s: the ignored error rolled back the run's transaction (XACT_ABORT); use "
	                   "--no-transaction for scripts that ignore errors",
	                   where);
}

static int exec_batch(struct run *run, const struct tsql_batch *b)
{
	struct timespec t0 = clock_now();
	long rows = 0;
	run->batch = b;
	for (unsigned long i = 0; i < b->count; i++) {
		run->executed++;
		if (exec_once(run, &rows) == SUCCEED)
			continue;
		if (run->s.stopped || sig_caught())
			return sig_exit_code();
		if (b->on_error_exit || !run->s.failed || run->s.dead) {
			char where[512];
			error_location(run, where, sizeof where);
			cJSON_AddStringToObject(result_object(), "failed_at", where);
			return mssql_report_failure(&run->s, where);
		}
		int rc = ignore_error(run);
		if (rc)
			return rc;
	}
	char command[32];
	snprintf(command, sizeof command, b->count > 1 ? "GO %lu" : "GO", b->count);
	run->rows += rows;
	sql_record_statement(run->list, b->file, (int)b->line, command, rows, clock_ms_since(&t0));
	return TR_EXIT_OK;
}

static int exec_simple(struct run *run, const char *sql)
{
	int rc = mssql_exec(&run->s, sql, NULL);
	return rc ? mssql_report_failure(&run->s, sql) : TR_EXIT_OK;
}

static void roll_back(struct run *run)
{
	struct mssql_session *s = &run->s;
	if (!s->in_transaction || s->dead || sig_caught())
		return;
	if (mssql_exec(s, "IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION", NULL) == TR_EXIT_OK)
		log_warn("rollback", "rolled back: nothing of this run was committed");
	s->in_transaction = false;
}

static int exec_script(struct run *run, const struct tsql_script *script)
{
	run->list = cJSON_AddArrayToObject(result_object(), "batches");
	int rc = exec_simple(run, "SET XACT_ABORT ON");
	if (rc == TR_EXIT_OK && !opts.no_transaction && (rc = exec_simple(run, "BEGIN TRANSACTION")) == TR_EXIT_OK)
		run->s.in_transaction = true;
	for (size_t i = 0; i < script->n && rc == TR_EXIT_OK; i++)
		rc = sig_caught() ? sig_exit_code() : exec_batch(run, &script->batch[i]);
	if (rc == TR_EXIT_OK && run->s.in_transaction && (rc = exec_simple(run, "COMMIT TRANSACTION")) == TR_EXIT_OK)
		run->s.in_transaction = false;
	if (rc != TR_EXIT_OK)
		roll_back(run);
	cJSON_AddNumberToObject(result_object(), "batches_total", (double)run->executed);
	cJSON_AddNumberToObject(result_object(), "rows_total", (double)run->rows);
	cJSON_AddBoolToObject(result_object(), "committed", rc == TR_EXIT_OK && !opts.no_transaction);
	return rc;
}

static int run_main(const struct cmd *cmd, int argc, char **argv)
{
	struct strlist files = { 0 };
	struct tsql_script script;
	struct run run = { 0 };
	tsql_script_init(&script);
	int rc = cli_parse(cmd, argc, argv, &files);
	if (rc == TR_EXIT_OK && !opts.command == !files.len)
		rc = result_fail(TR_EXIT_USAGE, "usage", "give SQL files or -c SQL (one of them); see '%s --help'",
		                 cmd->name);
	if (rc == TR_EXIT_OK)
		rc = load_script(&files, &script);
	if (rc == TR_EXIT_OK)
		rc = mssql_connect(&run.s);
	run.s.on_info = on_info;
	run.s.on_info_ctx = &run;
	if (rc == TR_EXIT_OK)
		rc = exec_script(&run, &script);
	if (sig_caught() && run.s.db)
		rc = mssql_stop(&run.s);
	mssql_close(&run.s);
	tsql_script_free(&script);
	strlist_free(&files);
	return rc;
}

/* clang-format off */
static const struct opt run_opts[] = {
	SQL_CONN_OPTS,
	{ "command", 'c', OPT_STRING, &opts.command, "SQL", "run this T-SQL instead of files", 0 },
	{ "variable", 'v', OPT_LIST, &opts.vars, "NAME=VALUE", "set the sqlcmd variable $(NAME)", 0 },
	{ "no-transaction", 0, OPT_BOOL, &opts.no_transaction, NULL,
	  "commit each batch on its own (statements SQL Server refuses in a transaction)", 0 },
	{ 0 }
};

const struct cmd cmd_run = {
	.name = "sqlserver-runner run",
	.usage = "--conn ID [flags] FILE... | -c SQL",
	.summary = "run sqlcmd-style T-SQL scripts (GO, $(variables), :r), all in one transaction",
	.description =
		"Reads the scripts the way sqlcmd does and runs their batches in order inside one\n"
		"transaction with SET XACT_ABORT ON: the first error (severity 11 or more) rolls everything\n"
		"back and exits 1, like sqlcmd -b, so a failed run leaves no partial data. Each batch's rows\n"
		"affected and time are logged and listed in the result (\"batches\"); PRINT and RAISERROR of\n"
		"severity 10 or less become info log lines.\n"
		"\n"
		"Script syntax (sqlcmd's):\n"
		"  GO [N]                a line of its own ends a batch (any case); N runs it N times\n"
		"  $(NAME)               a variable, from -v NAME=VALUE or :setvar\n"
		"  :setvar NAME \"VALUE\"  set a variable from here on\n"
		"  :r FILE               include FILE (relative to the including file)\n"
		"  :on error exit|ignore stop at the first error (default) or log it and go on\n"
		"GO and commands count only at the start of a line, never inside strings or comments. All\n"
		"files are read and checked before anything runs: a bad GO count, an undefined variable,\n"
		"any other :command, an include cycle or a missing file is exit 2 naming the file and line.\n"
		"\n"
		"Examples:\n"
		"  sqlserver-runner run --conn mssql_dwh -v day=2026-01-01 sql/load.sql sql/merge.sql\n"
		"  sqlserver-runner run --conn mssql_dwh --no-transaction -c 'ALTER DATABASE dwh SET RECOVERY SIMPLE'\n"
		"\n"
		"Exit codes: 0 committed, 1 SQL error (rolled back), 2 usage, 3 authentication,\n"
		"75 temporary (connection, deadlock 1205, lock timeout 1222, Azure transient errors),\n"
		"128+N signal (the running batch is cancelled with a TDS attention and rolled back).\n",
	.opts = run_opts,
	.run = run_main,
};
/* clang-format on */
