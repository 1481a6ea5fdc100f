/* cmd_query: `postgres-runner query SQL`, a result of any size streamed as CSV or NDJSON. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "commands.h"
#include "copyio.h"
#include "exitcode.h"
#include "fsutil.h"
#include "log.h"
#include "ndjson.h"
#include "pgconn.h"
#include "result.h"
#include "signals.h"
#include "sink.h"
#include "sqlsplit.h"

/* Rows per chunk in chunked-rows mode: memory stays at one chunk whatever the result size. */
#define NDJSON_CHUNK_ROWS 1000

static struct {
	const char *format;
	const char *output;
	const char *null;
	const char *sql_file;
	struct strlist vars;
	bool header;
} opts = { .format = "csv" };

/* CSV is the server's own COPY (query) TO STDOUT: correct quoting, and the fastest path. */
static int query_csv(PGconn *conn, const char *sql, FILE *out, long *rows, long *bytes)
{
	struct buf copy = BUF_INIT;
	buf_printf(&copy, "COPY (%s) TO STDOUT (FORMAT csv%s", sql, opts.header ? ", HEADER" : "");
	if (opts.null) {
		char *lit = PQescapeLiteral(conn, opts.null, strlen(opts.null));
		buf_printf(&copy, ", NULL %s", lit);
		PQfreemem(lit);
	}
	buf_puts(&copy, ")");
	int rc = copy_to_stream(conn, buf_str(&copy), out, rows, bytes);
	buf_free(&copy);
	return rc;
}

static int query_ndjson(PGconn *conn, const char *sql, FILE *out, long *rows)
{
	if (!PQsendQuery(conn, sql) || !PQsetChunkedRowsMode(conn, NDJSON_CHUNK_ROWS))
		return result_fail(TR_EXIT_TEMPFAIL, "sql_error", "%s", PQerrorMessage(conn));
	int rc = TR_EXIT_OK;
	PGresult *res;
	while ((res = pg_next_result(conn))) {
		ExecStatusType st = PQresultStatus(res);
		if (rc == TR_EXIT_OK && (st == PGRES_TUPLES_CHUNK || st == PGRES_TUPLES_OK)) {
			*rows += PQntuples(res);
			if (ndjson_write_rows(res, out) < 0)
				rc = result_fail(TR_EXIT_FAILED, "output", "cannot write the output");
		} else if (rc == TR_EXIT_OK) {
			rc = pg_report_failure(res, "the query");
		}
		PQclear(res);
	}
	if (rc == TR_EXIT_OK && sig_caught())
		rc = pg_report_failure(NULL, "the query");
	return rc;
}

/* The one statement to run: the argument or --sql-file, with -v variables expanded. */
static int load_statement(const struct strlist *args, char **sql)
{
	char *text = NULL, err[512];
	size_t len;
	if (opts.sql_file && args->len == 0) {
		int rc = fs_read_file(opts.sql_file, 64L * 1024 * 1024, &text, &len);
		if (rc)
			return result_fail(TR_EXIT_USAGE, "usage", "cannot read --sql-file %s: %s", opts.sql_file,
			                   strerror(rc));
	} else if (!opts.sql_file && args->len == 1) {
		text = xstrdup(args->items[0]);
	} else {
		return result_fail(TR_EXIT_USAGE, "usage",
		                   "give one SQL query, or --sql-file PATH; see 'postgres-runner query --help'");
	}
	struct sql_script script;
	struct buf expanded = BUF_INIT;
	int rc = sql_split(text, &script, err, sizeof err);
	free(text);
	if (rc)
		return result_fail(TR_EXIT_USAGE, "usage", "the query: %s", err);
	if (script.len != 1 || script.stmts[0].meta_args || script.stmts[0].gset_args)
		rc = result_fail(TR_EXIT_USAGE, "usage",
		                 "query takes exactly one statement and no psql meta-command; use 'run' for scripts");
	else if (sql_expand(script.stmts[0].text, &opts.vars, &expanded, NULL, err, sizeof err))
		rc = result_fail(TR_EXIT_USAGE, "usage", "the query: %s", err);
	else
		*sql = buf_detach(&expanded);
	buf_free(&expanded);
	sql_script_free(&script);
	return rc;
}

static int stream(PGconn *conn, const char *sql)
{
	struct sink out;
	long rows = 0, bytes = 0;
	int rc = sink_open(&out, opts.output);
	if (rc)
		return result_fail(TR_EXIT_FAILED, "output", "cannot create %s: %s", opts.output, strerror(rc));
	bool csv = strcmp(opts.format, "csv") == 0;
	rc = csv ? query_csv(conn, sql, out.fp, &rows, &bytes) : query_ndjson(conn, sql, out.fp, &rows);
	rc = sink_finish(&out, rc);
	cJSON *r = result_object();
	cJSON_AddNumberToObject(r, "rows", (double)rows);
	cJSON_AddStringToObject(r, "format", opts.format);
	cJSON_AddStringToObject(r, "output", opts.output ? opts.output : "stdout");
	if (rc == TR_EXIT_OK)
		log_info("query", "%ld rows written to %s", rows, opts.output ? opts.output : "stdout");
	return rc;
}

static int query_main(const struct cmd *cmd, int argc, char **argv)
{
	struct strlist args = { 0 };
	char *sql = NULL;
	PGconn *conn = NULL;
	int rc = cli_parse(cmd, argc, argv, &args);
	if (rc == TR_EXIT_OK && strcmp(opts.format, "csv") != 0 && strcmp(opts.format, "ndjson") != 0)
		rc = result_fail(TR_EXIT_USAGE, "usage", "--format must be csv or ndjson, not '%s'", opts.format);
	if (rc == TR_EXIT_OK)
		rc = load_statement(&args, &sql);
	if (rc == TR_EXIT_OK)
		rc = pg_connect(&conn);
	if (rc == TR_EXIT_OK)
		rc = stream(conn, sql);
	PQfinish(conn);
	free(sql);
	strlist_free(&args);
	return rc;
}

/* clang-format off */
static const struct opt query_opts[] = {
	SQL_CONN_OPTS,
	{ "format", 0, OPT_STRING, &opts.format, "FORMAT", "csv (default) or ndjson", 0 },
	{ "output", 'o', OPT_STRING, &opts.output, "PATH", "write the rows here (default stdout); the file appears only when complete", 0 },
	{ "header", 0, OPT_BOOL, &opts.header, NULL, "csv: start with a header line of column names", 0 },
	{ "null", 0, OPT_STRING, &opts.null, "TEXT", "csv: how NULL is written (default: an empty field)", 0 },
	{ "sql-file", 0, OPT_STRING, &opts.sql_file, "PATH", "read the query from this file", 0 },
	{ "variable", 'v', OPT_LIST, &opts.vars, "NAME=VALUE", "set a variable for :NAME, :'NAME' and :\"NAME\"", 0 },
	{ 0 }
};

const struct cmd cmd_query = {
	.name = "postgres-runner query",
	.usage = "--conn ID [flags] SQL",
	.summary = "stream a query's rows as CSV or NDJSON, in constant memory",
	.description =
		"CSV comes from the server's COPY (SQL) TO STDOUT, so quoting is PostgreSQL's own. NDJSON\n"
		"is one object per row, fetched in chunks of 1000 rows: numbers, booleans and json stay\n"
		"typed, NULL is null. Memory stays flat whatever the result size. With --output the\n"
		"file is written under a temporary name and renamed when complete.\n"
		"\n"
		"When the rows go to stdout, the result JSON is still the last line.\n"
		"\n"
		"Examples:\n"
		"  postgres-runner query --conn warehouse --header -o /data/sales.csv 'SELECT * FROM sales'\n"
		"  postgres-runner query --conn warehouse --format ndjson -v day=2026-01-01 \\\n"
		"      \"SELECT * FROM events WHERE day = :'day'\"\n",
	.opts = query_opts,
	.run = query_main,
};
/* clang-format on */
