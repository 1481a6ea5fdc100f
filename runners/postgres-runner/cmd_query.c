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

static struct {
	const char *format;
	const char *output;
	const char *null;
	const char *sql_file;
	struct strlist vars;
	bool header;
} opts = { .format = "csv" };

/* COPY (sql) TO STDOUT (options). The query goes on lines of its own, so a trailing -- comment
 * cannot swallow the closing ')' (sql_split has already dropped the terminating ';'). */
static void copy_statement(struct buf *copy, const char *sql, const char *options)
{
	buf_printf(copy, "COPY (\n%s\n) TO STDOUT (%s)", sql, options);
}

/* CSV is the server's own COPY (query) TO STDOUT: correct quoting, and the fastest path. */
static int query_csv(PGconn *conn, const char *sql, FILE *out, long *rows, long *bytes)
{
	struct buf options = BUF_INIT, copy = BUF_INIT;
	buf_puts(&options, opts.header ? "FORMAT csv, HEADER" : "FORMAT csv");
	if (opts.null) {
		char *lit = PQescapeLiteral(conn, opts.null, strlen(opts.null));
		if (!lit) {
			buf_free(&options);
			return result_fail(TR_EXIT_USAGE, "usage", "--null: %s", PQerrorMessage(conn));
		}
		buf_printf(&options, ", NULL %s", lit);
		PQfreemem(lit);
	}
	copy_statement(&copy, sql, buf_str(&options));
	int rc = copy_to_stream(conn, buf_str(&copy), out, rows, bytes);
	buf_free(&copy);
	buf_free(&options);
	return rc;
}

/* Wait, cancel-aware, for the end of what was sent (commands without rows). With keep, the last
 * result is handed over (a Describe's). */
static int finish_command(PGconn *conn, const char *what, PGresult **keep)
{
	int rc = TR_EXIT_OK;
	PGresult *res;
	while ((res = pg_next_result(conn))) {
		if (rc == TR_EXIT_OK && PQresultStatus(res) != PGRES_COMMAND_OK) {
			rc = pg_report_failure(res, what);
		} else if (rc == TR_EXIT_OK && keep) {
			PQclear(*keep);
			*keep = res;
			continue;
		}
		PQclear(res);
	}
	if (rc == TR_EXIT_OK && sig_caught())
		rc = pg_report_failure(NULL, what);
	return rc;
}

/* JSON text is UTF-8 (RFC 8259) whatever the database's encoding: the server converts. */
static int use_utf8(PGconn *conn)
{
	if (strcmp(pg_encoding_to_char(PQclientEncoding(conn)), "UTF8") == 0)
		return TR_EXIT_OK;
	if (!PQsendQuery(conn, "SET client_encoding TO 'UTF8'"))
		return result_fail(TR_EXIT_TEMPFAIL, "sql_error", "%s", PQerrorMessage(conn));
	return finish_command(conn, "SET client_encoding", NULL);
}

/* The names and types of the query's columns, from the server's Describe: it is planned, not
 * run. */
static int describe(PGconn *conn, const char *sql, PGresult **desc)
{
	if (!PQsendPrepare(conn, "", sql, 0, NULL))
		return result_fail(TR_EXIT_TEMPFAIL, "sql_error", "%s", PQerrorMessage(conn));
	int rc = finish_command(conn, "the query", NULL);
	if (rc)
		return rc;
	if (!PQsendDescribePrepared(conn, ""))
		return result_fail(TR_EXIT_TEMPFAIL, "sql_error", "%s", PQerrorMessage(conn));
	return finish_command(conn, "the query", desc);
}

/* NDJSON: the rows come as COPY text (the cheapest way to stream them: one small buffer per
 * row) and are written as JSON by the types that describe() found. */
static int query_ndjson(PGconn *conn, const char *sql, FILE *out, long *rows, long *bytes)
{
	PGresult *desc = NULL;
	int rc = use_utf8(conn);
	if (rc == TR_EXIT_OK)
		rc = describe(conn, sql, &desc);
	if (rc == TR_EXIT_OK) {
		struct ndjson writer;
		struct buf copy = BUF_INIT;
		ndjson_init(&writer, out, desc);
		copy_statement(&copy, sql, "FORMAT text");
		rc = copy_to_rows(conn, buf_str(&copy), ndjson_copy_row, &writer, rows, bytes);
		int error = ndjson_finish(&writer);
		if (rc == TR_EXIT_OK && error)
			rc = result_fail(TR_EXIT_FAILED, "output", "cannot write the output: %s", strerror(error));
		buf_free(&copy);
	}
	PQclear(desc);
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
	if (script.len == 0)
		rc = result_fail(TR_EXIT_USAGE, "usage", "the query is empty: give one SQL statement");
	else if (script.len > 1)
		rc = result_fail(
		        TR_EXIT_USAGE, "usage",
		        "query takes one statement, not %zu (line %d starts the second); use 'run' for scripts",
		        script.len, script.stmts[1].line);
	else if (script.stmts[0].meta_args || script.stmts[0].gset_args)
		rc = result_fail(TR_EXIT_USAGE, "usage", "query takes no psql meta-command; use 'run' for scripts");
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
	rc = csv ? query_csv(conn, sql, out.fp, &rows, &bytes) : query_ndjson(conn, sql, out.fp, &rows, &bytes);
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
		"SQL is one statement that returns rows: SELECT, VALUES, TABLE, or INSERT/UPDATE/DELETE\n"
		"... RETURNING. A trailing ';' or comment is fine; for a script, use 'run'. Put the SQL\n"
		"after '--' when it starts with '-' (a comment, say).\n"
		"\n"
		"Both formats stream the rows through COPY (SQL) TO STDOUT. CSV is the server's own,\n"
		"quoted by PostgreSQL, in the database's encoding. NDJSON is one JSON object per row,\n"
		"in UTF-8, converted from COPY's text format by the column types:\n"
		"  int2/int4/int8/oid, float4/float8, numeric  a number, digit for digit as the server\n"
		"                                             printed it; NaN, Infinity and -Infinity\n"
		"                                             (floats and numeric) are the strings\n"
		"                                             \"NaN\", \"Infinity\", \"-Infinity\"\n"
		"  bool                                       true or false\n"
		"  json, jsonb                                embedded as is (line breaks between\n"
		"                                             tokens become spaces)\n"
		"  NULL                                       null\n"
		"  anything else                              a string of PostgreSQL's text form\n"
		"                                             (dates, arrays, bytea as \\x..., ...)\n"
		"A domain counts as its base type. Memory stays flat whatever the result size. With\n"
		"--output the file is written under a temporary name and renamed when complete.\n"
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
