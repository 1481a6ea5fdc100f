/* cmd_run: `postgres-runner run FILE... | -c SQL`, psql scripts in one transaction: the script is
 * read and checked whole first (script.h), then its SQL, COPY data and meta-commands run in order. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "clock.h"
#include "commands.h"
#include "exitcode.h"
#include "log.h"
#include "pgconn.h"
#include "psqlmeta.h"
#include "result.h"
#include "script.h"
#include "signals.h"
#include "sqlresult.h"
#include "sqlsplit.h"

#define SCRIPT_MAX_BYTES (256L * 1024 * 1024)
/* Inline COPY data goes to the server in pieces this big, so a stop signal is seen between them. */
#define COPY_CHUNK ((size_t)256 * 1024)

static struct {
	struct strlist vars;
	const char *command;
	const char *guard;
	bool no_transaction;
} opts;

/* What a run keeps while it goes through the script's steps. */
struct run {
	PGconn *conn;
	struct meta_state meta; /* variables and \if stack */
	struct strlist unknown; /* :names left as is, warned about once each */
	cJSON *list;
	long rows, count;
};

static int load_script(const struct strlist *files, struct script *script)
{
	char err[1024];
	if (script_load(script, files, opts.command, &opts.vars, SCRIPT_MAX_BYTES, err, sizeof err))
		return result_fail(TR_EXIT_USAGE, "script", "%s", err);
	return TR_EXIT_OK;
}

static void record_statement(struct run *run, const struct script_step *step, const PGresult *res, double ms)
{
	char command[64];
	sql_command_word(PQcmdStatus((PGresult *)res), command, sizeof command);
	const char *tuples = PQcmdTuples((PGresult *)res);
	long rows = *tuples ? strtol(tuples, NULL, 10) : PQntuples(res);
	run->rows += rows;
	sql_record_statement(run->list, step->file, step->stmt->line, command, rows, ms);
}

/* Wait until libpq's send queue is empty; false on a stop signal or a broken connection. */
static bool flush_all(PGconn *conn)
{
	int pending;
	while ((pending = PQflush(conn)) == 1)
		if (sig_caught() || pg_wait_socket(conn, 1) < 0)
			return false;
	return pending == 0;
}

/* The inline data of COPY ... FROM stdin. The connection is non-blocking meanwhile, so a server
 * that stops reading cannot hold us past a stop signal. */
static void feed_copy_data(PGconn *conn, const struct sql_stmt *st)
{
	const char *abort_reason = NULL;
	PQsetnonblocking(conn, 1);
	for (size_t off = 0; off < st->copy_len && !abort_reason;) {
		size_t n = st->copy_len - off < COPY_CHUNK ? st->copy_len - off : COPY_CHUNK;
		int queued = PQputCopyData(conn, st->copy_data + off, (int)n);
		if (queued < 0)
			abort_reason = PQerrorMessage(conn);
		else if (queued == 1)
			off += n;
		if (!abort_reason && (sig_caught() || !flush_all(conn)))
			abort_reason = "stopped by a signal";
	}
	while (PQputCopyEnd(conn, abort_reason) == 0 && !sig_caught() && pg_wait_socket(conn, 1) == 0)
		;
	flush_all(conn);
	PQsetnonblocking(conn, 0);
}

/* Drain what a statement returns; COPY ... FROM stdin gets its inline data, when it has some. */
static PGresult *statement_result(PGconn *conn, const struct sql_stmt *st)
{
	PGresult *res, *last = NULL;
	while ((res = pg_next_result(conn))) {
		ExecStatusType status = PQresultStatus(res);
		if (status == PGRES_COPY_IN && st && st->copy_in)
			feed_copy_data(conn, st);
		else if (status == PGRES_COPY_IN)
			PQputCopyEnd(conn, "COPY FROM STDIN needs its data after the statement, ended by a line \\.; "
			                   "or use 'postgres-runner copy in'");
		else if (status == PGRES_COPY_OUT)
			for (char *row; PQgetCopyData(conn, &row, 0) > 0;)
				PQfreemem(row);
		last = pg_keep_result(last, res);
	}
	return last;
}

static int step_failed(const struct script_step *step, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int step_failed(const struct script_step *step, int code, const char *fmt, ...)
{
	char where[512];
	snprintf(where, sizeof where, "%s:%d", step->file, step->stmt->line);
	cJSON_AddStringToObject(result_object(), "failed_at", where);
	struct buf what = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&what, fmt, ap);
	va_end(ap);
	code = result_fail(code, "script", "%s: %s", where, buf_str(&what));
	buf_free(&what);
	return code;
}

/* \gset [PREFIX]: one row, each column into the variable PREFIX<column>; NULL unsets it. */
static int store_gset(struct run *run, const struct script_step *step, const PGresult *res)
{
	int rows = PQresultStatus(res) == PGRES_TUPLES_OK ? PQntuples(res) : 0;
	if (rows != 1)
		return step_failed(step, TR_EXIT_FAILED, "\\gset needs exactly one row; the query returned %s",
		                   rows ? "more than one" : "none");
	struct strlist args = { 0 };
	char err[512];
	int rc = meta_args(step->stmt->gset_args, &run->meta.vars, &args, err, sizeof err)
	                 ? step_failed(step, TR_EXIT_USAGE, "\\gset: %s", err)
	                 : TR_EXIT_OK;
	struct buf name = BUF_INIT;
	for (int c = 0; rc == TR_EXIT_OK && c < PQnfields(res); c++) {
		buf_reset(&name);
		buf_printf(&name, "%s%s", args.len ? args.items[0] : "", PQfname(res, c));
		if (!meta_var_name_ok(buf_str(&name)))
			rc = step_failed(step, TR_EXIT_FAILED, "\\gset: invalid variable name: \"%s\"", buf_str(&name));
		else if (PQgetisnull(res, 0, c))
			meta_var_unset(&run->meta.vars, buf_str(&name));
		else
			meta_var_set(&run->meta.vars, buf_str(&name), PQgetvalue(res, 0, c));
	}
	buf_free(&name);
	strlist_free(&args);
	return rc;
}

/* The statement with the variables as they are now; warns once about each :name left as is. */
static int expand_statement(struct run *run, const struct script_step *step, struct buf *sql)
{
	size_t known = run->unknown.len;
	char err[512];
	if (sql_expand(step->stmt->text, &run->meta.vars, sql, &run->unknown, err, sizeof err))
		return step_failed(step, TR_EXIT_USAGE, "%s", err);
	for (size_t i = known; i < run->unknown.len; i++)
		log_warn("script", "%s:%d: :%s is not set and is left as is; pass -v %s=VALUE if it is a variable",
		         step->file, step->stmt->line, run->unknown.items[i], run->unknown.items[i]);
	return TR_EXIT_OK;
}

static int exec_statement(struct run *run, const struct script_step *step)
{
	struct timespec t0 = clock_now();
	struct buf sql = BUF_INIT;
	int rc = expand_statement(run, step, &sql);
	if (rc == TR_EXIT_OK && !PQsendQuery(run->conn, buf_str(&sql)))
		rc = step_failed(step, TR_EXIT_TEMPFAIL, "%s", PQerrorMessage(run->conn));
	buf_free(&sql);
	if (rc != TR_EXIT_OK)
		return rc;
	PGresult *res = statement_result(run->conn, step->stmt);
	ExecStatusType status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	run->count++;
	if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) {
		record_statement(run, step, res, clock_ms_since(&t0));
		if (step->stmt->gset_args)
			rc = store_gset(run, step, res);
	} else {
		char where[512];
		snprintf(where, sizeof where, "%s:%d", step->file, step->stmt->line);
		cJSON_AddStringToObject(result_object(), "failed_at", where);
		rc = pg_report_failure(res, where);
	}
	PQclear(res);
	return rc;
}

static int exec_meta(struct run *run, const struct script_step *step)
{
	char err[512];
	if (meta_run(&run->meta, step->cmd, step->stmt->meta_args, err, sizeof err) == 0)
		return TR_EXIT_OK;
	return step_failed(step, TR_EXIT_USAGE, "\\%s: %s", step->stmt->text, err);
}

/* --skip-unless: a first value of false, 0, NULL or no row at all means there is nothing to do. */
static int check_guard(PGconn *conn)
{
	if (!opts.guard)
		return TR_EXIT_OK;
	PGresult *res = NULL;
	if (PQsendQuery(conn, opts.guard))
		res = statement_result(conn, NULL);
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
	PGresult *res = PQsendQuery(conn, sql) ? statement_result(conn, NULL) : NULL;
	int rc = res && PQresultStatus(res) == PGRES_COMMAND_OK ? TR_EXIT_OK : pg_report_failure(res, sql);
	PQclear(res);
	return rc;
}

static int exec_steps(struct run *run, const struct script *script)
{
	int rc = TR_EXIT_OK;
	for (size_t i = 0; i < script->len && rc == TR_EXIT_OK; i++) {
		const struct script_step *step = &script->steps[i];
		if (sig_caught())
			rc = pg_report_failure(NULL, "the script");
		else if (step->cmd)
			rc = exec_meta(run, step);
		else if (meta_active(&run->meta))
			rc = exec_statement(run, step);
	}
	return rc;
}

static int exec_script(PGconn *conn, const struct script *script)
{
	struct run run = { .conn = conn, .meta = { .out = stdout } };
	for (size_t i = 0; i < opts.vars.len; i++)
		strlist_push(&run.meta.vars, opts.vars.items[i]);
	run.list = cJSON_AddArrayToObject(result_object(), "statements");
	int rc = opts.no_transaction ? TR_EXIT_OK : exec_simple(conn, "BEGIN");
	if (rc == TR_EXIT_OK)
		rc = exec_steps(&run, script);
	if (rc == TR_EXIT_OK && !opts.no_transaction)
		rc = exec_simple(conn, "COMMIT");
	if (rc != TR_EXIT_OK && PQtransactionStatus(conn) != PQTRANS_IDLE &&
	    PQtransactionStatus(conn) != PQTRANS_ACTIVE) {
		PQclear(pg_exec(conn, "ROLLBACK"));
		log_warn("rollback", "rolled back: nothing of this run was committed%s",
		         opts.no_transaction ? " after the last successful statement" : "");
	}
	cJSON_AddNumberToObject(result_object(), "statements_total", (double)run.count);
	cJSON_AddNumberToObject(result_object(), "rows_total", (double)run.rows);
	cJSON_AddBoolToObject(result_object(), "committed", rc == TR_EXIT_OK);
	meta_state_free(&run.meta);
	strlist_free(&run.unknown);
	return rc;
}

static int run_main(const struct cmd *cmd, int argc, char **argv)
{
	struct strlist files = { 0 };
	struct script script = { 0 };
	PGconn *conn = NULL;
	int rc = cli_parse(cmd, argc, argv, &files);
	if (rc == TR_EXIT_OK && !opts.command == !files.len)
		rc = result_fail(TR_EXIT_USAGE, "usage", "give SQL files or -c SQL (one of them); see '%s --help'",
		                 cmd->name);
	if (rc == TR_EXIT_OK)
		rc = load_script(&files, &script);
	if (rc == TR_EXIT_OK)
		rc = pg_connect(&conn);
	if (rc == TR_EXIT_OK)
		rc = check_guard(conn);
	if (rc == TR_EXIT_OK)
		rc = exec_script(conn, &script);
	PQfinish(conn);
	script_free(&script);
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
	.summary = "run SQL and psql scripts (pg_dump plain dumps too), all in one transaction",
	.description =
		"Reads the scripts the way psql does (quotes, dollar quotes, comments, BEGIN ATOMIC bodies)\n"
		"and runs them in order inside one transaction: the first error rolls everything back, so a\n"
		"failed run leaves no partial data. Each statement's command, row count and time are logged\n"
		"and listed in the result.\n"
		"\n"
		"Variables work as in psql: -v day=2026-01-01 makes :day the raw text, :'day' the literal\n"
		"'2026-01-01', :\"day\" the identifier \"2026-01-01\" and :{?day} TRUE (FALSE when unset).\n"
		"\n"
		"psql meta-commands, for psql scripts and pg_dump's plain format:\n"
		"  COPY ... FROM stdin;   its data follows on the next lines, up to a line \\.\n"
		"  \\set NAME [VALUE...]  \\unset NAME  \\echo [-n] TEXT...\n"
		"  \\i FILE  \\ir FILE     include a file (\\ir: relative to the including file)\n"
		"  \\if EXPR \\elif EXPR \\else \\endif   psql booleans: true/false, on/off, yes/no, 1/0\n"
		"  QUERY \\gset [PREFIX]  store the one row of QUERY in variables (NULL unsets)\n"
		"  \\restrict KEY  \\unrestrict KEY     as pg_dump writes them\n"
		"All files, includes in every \\if branch too, are read and checked before anything runs:\n"
		"any other meta-command (\\copy, \\connect, ...), an include cycle, a missing file or an\n"
		"unbalanced \\if is exit 2 naming the file and line, with nothing sent to the server.\n"
		"\\gset without exactly one row is exit 1; an invalid \\if boolean is exit 2 (rolled back).\n"
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
