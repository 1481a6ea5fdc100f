/* cmd_run: `postgres-runner run FILE... | -c SQL`, SQL scripts in one transaction. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "clock.h"
#include "commands.h"
#include "exitcode.h"
#include "fsutil.h"
#include "log.h"
#include "pgconn.h"
#include "result.h"
#include "signals.h"
#include "sqlresult.h"
#include "sqlsplit.h"

#define SCRIPT_MAX_BYTES (256L * 1024 * 1024)
/* The result goes to XCom: past this many statements only the totals grow. */

static struct {
	struct strlist vars;
	const char *command;
	const char *guard;
	bool no_transaction;
} opts;

struct script {
	const char *name; /* the file, or "-c" */
	struct sql_script sql;
};

static int load_script(const char *name, const char *text, struct script *out)
{
	char err[512];
	out->name = name;
	if (sql_split(text, &opts.vars, &out->sql, err, sizeof err))
		return result_fail(TR_EXIT_USAGE, "script", "%s: %s", name, err);
	for (size_t i = 0; i < out->sql.unknown_vars.len; i++)
		log_warn("script", "%s: :%s is not set and is left as is; pass -v %s=VALUE if it is a variable", name,
		         out->sql.unknown_vars.items[i], out->sql.unknown_vars.items[i]);
	return TR_EXIT_OK;
}

static int load_scripts(const struct strlist *files, struct script **scripts, size_t *n)
{
	*n = opts.command ? 1 : files->len;
	*scripts = calloc(*n, sizeof **scripts);
	if (opts.command)
		return load_script("-c", opts.command, &(*scripts)[0]);
	for (size_t i = 0; i < files->len; i++) {
		char *text;
		size_t len;
		int rc = fs_read_file(files->items[i], SCRIPT_MAX_BYTES, &text, &len);
		if (rc)
			return result_fail(TR_EXIT_USAGE, "script", "cannot read %s: %s", files->items[i],
			                   strerror(rc));
		rc = load_script(files->items[i], text, &(*scripts)[i]);
		free(text);
		if (rc)
			return rc;
	}
	return TR_EXIT_OK;
}

static void record_statement(const char *file, const struct sql_stmt *st, const PGresult *res, double ms, cJSON *list,
                             long *total_rows)
{
	char command[64];
	sql_command_word(PQcmdStatus((PGresult *)res), command, sizeof command);
	const char *tuples = PQcmdTuples((PGresult *)res);
	long rows = *tuples ? strtol(tuples, NULL, 10) : PQntuples(res);
	*total_rows += rows;
	sql_record_statement(list, file, st->line, command, rows, ms);
}

/* Drain what a statement returns. COPY ... FROM STDIN has no data here and is refused. */
static PGresult *statement_result(PGconn *conn)
{
	PGresult *res, *last = NULL;
	while ((res = pg_next_result(conn))) {
		ExecStatusType st = PQresultStatus(res);
		if (st == PGRES_COPY_IN)
			PQputCopyEnd(conn, "COPY FROM STDIN is not available in 'run'; use 'postgres-runner copy in'");
		else if (st == PGRES_COPY_OUT)
			for (char *row; PQgetCopyData(conn, &row, 0) > 0;)
				PQfreemem(row);
		if (last && PQresultStatus(last) == PGRES_FATAL_ERROR) {
			PQclear(res); /* keep the first error */
			continue;
		}
		PQclear(last);
		last = res;
	}
	return last;
}

static int exec_statement(PGconn *conn, const char *file, const struct sql_stmt *st, cJSON *list, long *rows)
{
	struct timespec t0 = clock_now();
	if (!PQsendQuery(conn, st->text))
		return result_fail(TR_EXIT_TEMPFAIL, "sql_error", "%s:%d: %s", file, st->line, PQerrorMessage(conn));
	PGresult *res = statement_result(conn);
	ExecStatusType status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	int rc = TR_EXIT_OK;
	if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) {
		record_statement(file, st, res, clock_ms_since(&t0), list, rows);
	} else {
		char where[512];
		snprintf(where, sizeof where, "%s:%d", file, st->line);
		cJSON_AddStringToObject(result_object(), "failed_at", where);
		rc = pg_report_failure(res, where);
	}
	PQclear(res);
	return rc;
}

/* --skip-unless: a first value of false, 0, NULL or no row at all means there is nothing to do. */
static int check_guard(PGconn *conn)
{
	if (!opts.guard)
		return TR_EXIT_OK;
	PGresult *res = NULL;
	if (PQsendQuery(conn, opts.guard))
		res = statement_result(conn);
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
		int rc = pg_report_failure(res, "--skip-unless");
		PQclear(res);
		return rc;
	}
	bool go = PQntuples(res) > 0 && PQnfields(res) > 0 && !PQgetisnull(res, 0, 0);
	if (go) {
		const char *v = PQgetvalue(res, 0, 0);
		go = strcmp(v, "f") != 0 && strcmp(v, "0") != 0 && strcmp(v, "false") != 0;
	}
	PQclear(res);
	if (go)
		return TR_EXIT_OK;
	log_info("skipped", "--skip-unless returned nothing to do: skipping");
	return TR_EXIT_SKIPPED;
}

static int exec_simple(PGconn *conn, const char *sql)
{
	PGresult *res = PQsendQuery(conn, sql) ? statement_result(conn) : NULL;
	int rc = res && PQresultStatus(res) == PGRES_COMMAND_OK ? TR_EXIT_OK : pg_report_failure(res, sql);
	PQclear(res);
	return rc;
}

static int exec_scripts(PGconn *conn, const struct script *scripts, size_t n)
{
	cJSON *list = cJSON_AddArrayToObject(result_object(), "statements");
	long rows = 0, count = 0;
	int rc = opts.no_transaction ? TR_EXIT_OK : exec_simple(conn, "BEGIN");
	for (size_t i = 0; i < n && rc == TR_EXIT_OK; i++) {
		for (size_t j = 0; j < scripts[i].sql.len && rc == TR_EXIT_OK; j++, count++)
			rc = sig_caught()
			             ? pg_report_failure(NULL, "the script")
			             : exec_statement(conn, scripts[i].name, &scripts[i].sql.stmts[j], list, &rows);
	}
	if (rc == TR_EXIT_OK && !opts.no_transaction)
		rc = exec_simple(conn, "COMMIT");
	if (rc != TR_EXIT_OK && PQtransactionStatus(conn) != PQTRANS_IDLE &&
	    PQtransactionStatus(conn) != PQTRANS_ACTIVE) {
		PQclear(pg_exec(conn, "ROLLBACK"));
		log_warn("rollback", "rolled back: nothing of this run was committed%s",
		         opts.no_transaction ? " after the last successful statement" : "");
	}
	cJSON_AddNumberToObject(result_object(), "statements_total", (double)count);
	cJSON_AddNumberToObject(result_object(), "rows_total", (double)rows);
	cJSON_AddBoolToObject(result_object(), "committed", rc == TR_EXIT_OK);
	return rc;
}

static int run_main(const struct cmd *cmd, int argc, char **argv)
{
	struct strlist files = { 0 };
	struct script *scripts = NULL;
	size_t n = 0;
	PGconn *conn = NULL;
	int rc = cli_parse(cmd, argc, argv, &files);
	if (rc == TR_EXIT_OK && !opts.command == !files.len)
		rc = result_fail(TR_EXIT_USAGE, "usage", "give SQL files or -c SQL (one of them); see '%s --help'",
		                 cmd->name);
	if (rc == TR_EXIT_OK)
		rc = load_scripts(&files, &scripts, &n);
	if (rc == TR_EXIT_OK)
		rc = pg_connect(&conn);
	if (rc == TR_EXIT_OK)
		rc = check_guard(conn);
	if (rc == TR_EXIT_OK)
		rc = exec_scripts(conn, scripts, n);
	PQfinish(conn);
	for (size_t i = 0; i < n; i++)
		sql_script_free(&scripts[i].sql);
	free(scripts);
	strlist_free(&files);
	return rc;
}

/* clang-format off */
static const struct opt run_opts[] = {
	SQL_CONN_OPTS,
	{ "command", 'c', OPT_STRING, &opts.command, "SQL", "run this SQL instead of files", 0 },
	{ "variable", 'v', OPT_LIST, &opts.vars, "NAME=VALUE", "set a variable for :NAME, :'NAME' and :\"NAME\"", 0 },
	{ "no-transaction", 0, OPT_BOOL, &opts.no_transaction, NULL,
	  "commit each statement on its own (CREATE INDEX CONCURRENTLY, VACUUM, ...)", 0 },
	{ "skip-unless", 0, OPT_STRING, &opts.guard, "SQL",
	  "a guard query run first: false, 0, NULL or no row skips the task (exit 99)", 0 },
	{ 0 }
};

const struct cmd cmd_run = {
	.name = "postgres-runner run",
	.usage = "--conn ID [flags] FILE... | -c SQL",
	.summary = "run SQL scripts, all statements in one transaction",
	.description =
		"Splits the scripts into statements the way psql does (quotes, dollar quotes, comments,\n"
		"BEGIN ATOMIC bodies) and runs them in order inside one transaction: the first error\n"
		"rolls everything back, so a failed run leaves no partial data. Each statement's command,\n"
		"row count and time are logged and listed in the result.\n"
		"\n"
		"Variables work as in psql: -v day=2026-01-01 makes :day the raw text, :'day' the literal\n"
		"'2026-01-01' and :\"day\" the identifier \"2026-01-01\". psql meta-commands (\\copy, \\i)\n"
		"are refused: use 'postgres-runner copy' and several FILE arguments instead.\n"
		"\n"
		"Examples:\n"
		"  postgres-runner run --conn warehouse -v day=2026-01-01 sql/load.sql sql/merge.sql\n"
		"  postgres-runner run --conn warehouse --no-transaction -c 'VACUUM ANALYZE sales'\n"
		"  postgres-runner run --conn warehouse --skip-unless 'SELECT count(*) FROM staging' load.sql\n"
		"\n"
		"Exit codes: 0 committed, 1 SQL error (rolled back), 2 usage, 3 authentication,\n"
		"75 temporary (connection, deadlock, serialization, lock timeout), 99 skipped, 128+N signal.\n",
	.opts = run_opts,
	.run = run_main,
};
/* clang-format on */
