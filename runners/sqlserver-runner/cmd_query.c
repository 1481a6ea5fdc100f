/* cmd_query: `sqlserver-runner query SQL`, a result of any size streamed as CSV, TSV or NDJSON. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "commands.h"
#include "exitcode.h"
#include "log.h"
#include "result.h"
#include "signals.h"
#include "sink.h"
#include "sqlconn.h"
#include "tdsconn.h"
#include "tdsrows.h"
#include "tsqlscript.h"

static struct {
	const char *format;
	const char *output;
	const char *null;
	const char *sql_file;
	struct strlist vars;
	bool header;
} opts = { .format = "csv" };

/* The one batch to run: the argument or --sql-file, read as sqlcmd reads a script (-v and
 * :setvar variables); a second batch (after GO) is refused. */
static int load_query(const struct strlist *args, struct tsql_script *script)
{
	if ((args->len == 1) == (opts.sql_file != NULL))
		return result_fail(TR_EXIT_USAGE, "usage",
		                   "give one SQL query, or --sql-file PATH; see 'sqlserver-runner query --help'");
	struct tsql_vars *vars = tsql_vars_new();
	char err[1024];
	int rc = TR_EXIT_OK;
	for (size_t i = 0; i < opts.vars.len && rc == TR_EXIT_OK; i++) {
		const char *item = opts.vars.items[i], *eq = strchr(item, '=');
		char *name = eq ? xstrndup(item, (size_t)(eq - item)) : NULL;
		if (!name || tsql_vars_set(vars, name, eq + 1, err, sizeof err))
			rc = result_fail(TR_EXIT_USAGE, "usage", "-v '%s': give a variable as NAME=VALUE", item);
		free(name);
	}
	if (rc == TR_EXIT_OK && (opts.sql_file ? tsql_script_add_file(script, opts.sql_file, vars, err, sizeof err)
	                                       : tsql_script_add_text(script, args->items[0], strlen(args->items[0]),
	                                                              "query", vars, err, sizeof err)))
		rc = result_fail(TR_EXIT_USAGE, "usage", "%s", err);
	tsql_vars_free(vars);
	if (rc == TR_EXIT_OK && (script->n != 1 || script->batch[0].count != 1))
		rc = result_fail(TR_EXIT_USAGE, "usage",
		                 "query runs one batch, not %zu (or GO N): use 'run' for scripts", script->n);
	return rc;
}

static int stream(struct mssql_session *s, const char *sql)
{
	struct sink sink;
	int rc = sink_open(&sink, opts.output);
	if (rc)
		return result_fail(TR_EXIT_FAILED, "output", "cannot create %s: %s", opts.output, strerror(rc));
	struct tds_output out = { (enum row_format)row_format_parse(opts.format, true), opts.null, opts.header,
		                  sink.fp };
	struct timespec t0 = clock_now();
	long rows = 0;
	rc = tds_rows_stream(s, sql, "the query", &out, &rows);
	rc = sink_finish(&sink, rc);
	const char *where = opts.output ? opts.output : "stdout";
	cJSON *r = result_object();
	cJSON_AddNumberToObject(r, "rows", (double)rows);
	cJSON_AddStringToObject(r, "format", opts.format);
	cJSON_AddStringToObject(r, "output", where);
	if (rc == TR_EXIT_OK) {
		double ms = clock_ms_since(&t0);
		log_info("query", "%ld rows written to %s in %.1f s (%.0f rows/s)", rows, where, ms / 1000,
		         ms > 0 ? rows * 1000.0 / ms : 0.0);
	}
	return rc;
}

static int query_main(const struct cmd *cmd, int argc, char **argv)
{
	struct strlist args = { 0 };
	struct tsql_script script;
	struct mssql_session s = { 0 };
	tsql_script_init(&script);
	int rc = cli_parse(cmd, argc, argv, &args);
	if (rc == TR_EXIT_OK && row_format_parse(opts.format, true) < 0)
		rc = result_fail(TR_EXIT_USAGE, "usage", "--format must be csv, tsv or ndjson, not '%s'", opts.format);
	if (rc == TR_EXIT_OK)
		rc = load_query(&args, &script);
	if (rc == TR_EXIT_OK)
		rc = mssql_connect(&s);
	if (rc == TR_EXIT_OK)
		rc = stream(&s, script.batch[0].sql);
	if (sig_caught() && s.db)
		rc = mssql_stop(&s);
	mssql_close(&s);
	tsql_script_free(&script);
	strlist_free(&args);
	return rc;
}

/* clang-format off */
static const struct opt query_opts[] = {
	SQL_CONN_OPTS,
	{ "format", 0, OPT_STRING, &opts.format, "FORMAT", "csv (default), tsv or ndjson", 0 },
	{ "output", 'o', OPT_STRING, &opts.output, "PATH", "write the rows here (default stdout); the file appears only when complete", 0 },
	{ "header", 0, OPT_BOOL, &opts.header, NULL, "csv, tsv: start with a line of column names", 0 },
	{ "null", 0, OPT_STRING, &opts.null, "TEXT", "csv, tsv: how NULL is written (default: an empty field; tsv \\N)", 0 },
	{ "sql-file", 0, OPT_STRING, &opts.sql_file, "PATH", "read the query from this file", 0 },
	{ "variable", 'v', OPT_LIST, &opts.vars, "NAME=VALUE", "set the sqlcmd variable $(NAME)", 0 },
	{ 0 }
};

const struct cmd cmd_query = {
	.name = "sqlserver-runner query",
	.usage = "--conn ID [flags] SQL",
	.summary = "stream a query's rows as CSV, TSV or NDJSON, in constant memory",
	.description =
		"SQL is one batch that returns one result set (SELECT, or a procedure that selects); it is\n"
		"read as sqlcmd reads a script, so $(NAME) variables work; for several batches use 'run'.\n"
		"Rows are written as they arrive, one at a time: memory stays flat whatever the size. With\n"
		"--output the file is written under a temporary name and renamed when complete.\n"
		"\n"
		"Values (the same in every format):\n"
		"  datetime2, datetime, smalldatetime  2026-03-01T12:34:56.1234567 (ISO 8601, the type's\n"
		"                                      fraction digits)\n"
		"  datetimeoffset                      2026-03-01T12:34:56.1234567+01:00\n"
		"  date, time                          2026-03-01, 12:34:56.1234567\n"
		"  decimal, numeric, money             exact, every digit of the scale: 1234.5000\n"
		"  float, real                         the shortest text that reads back the same\n"
		"  uniqueidentifier                    6F9619FF-8B86-D011-B42D-00C04FC964FF\n"
		"  binary, varbinary                   0x0A0B\n"
		"  char, varchar, nchar, nvarchar      UTF-8\n"
		"  bit                                 true / false\n"
		"CSV quotes a field when it must (RFC 4180) and writes an empty string as \"\"; NULL is an\n"
		"empty field, or --null TEXT. TSV escapes tab, newline, CR and backslash with a backslash;\n"
		"NULL is \\N. NDJSON writes one object per row: numbers and bit unquoted, NULL as null.\n"
		"\n"
		"When the rows go to stdout, the result JSON is still the last line.\n"
		"\n"
		"Examples:\n"
		"  sqlserver-runner query --conn mssql_dwh --header -o /data/sales.csv 'SELECT * FROM sales'\n"
		"  sqlserver-runner query --conn mssql_dwh --format ndjson -v day=2026-01-01 \\\n"
		"      \"SELECT * FROM events WHERE day = '$(day)'\"\n"
		"\n"
		"Exit codes: 0 written, 1 SQL error (no file is left), 2 usage, 3 authentication,\n"
		"75 temporary, 128+N signal (the query is cancelled with a TDS attention).\n",
	.opts = query_opts,
	.run = query_main,
};
/* clang-format on */
