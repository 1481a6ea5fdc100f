/* cmd_copy: `sqlserver-runner copy in|out --table T`, CSV or TSV streamed into a table with TDS
 * bulk load (bcpload.h) in one transaction, or out of it row by row (tdsrows.h). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bcpload.h"
#include "buf.h"
#include "clock.h"
#include "commands.h"
#include "exitcode.h"
#include "log.h"
#include "result.h"
#include "rowtext.h"
#include "signals.h"
#include "sink.h"
#include "sqlconn.h"
#include "tdsconn.h"
#include "tdsrows.h"

#define STOP_CHECK_ROWS 1024

static struct {
	const char *table;
	const char *format;
	const char *file;
	const char *null;
	long batch_size;
	bool header, tablock, check_constraints, fire_triggers;
} opts = { .format = "csv", .batch_size = 10000 };

/* A table name goes into SQL text as written (schema.table, [odd name], "quoted"): only
 * identifier characters, dots, and brackets or quotes around anything but their closer. */
static bool valid_table_name(const char *s)
{
	char closer = 0;
	for (; *s; s++) {
		if (closer)
			closer = *s == closer ? 0 : closer;
		else if (*s == '[' || *s == '"')
			closer = *s == '[' ? ']' : '"';
		else if (!isalnum((unsigned char)*s) && !strchr("_.#@$", *s) && (unsigned char)*s < 0x80)
			return false;
	}
	return !closer;
}

static double rate(long rows, double ms)
{
	return ms > 0 ? rows * 1000.0 / ms : 0.0;
}

/* The bcp hints of the flags, "TABLOCK,CHECK_CONSTRAINTS,FIRE_TRIGGERS", or NULL for none. */
static char *hints(void)
{
	struct buf b = BUF_INIT;
	if (opts.tablock)
		buf_puts(&b, "TABLOCK");
	if (opts.check_constraints)
		buf_printf(&b, "%sCHECK_CONSTRAINTS", b.len ? "," : "");
	if (opts.fire_triggers)
		buf_printf(&b, "%sFIRE_TRIGGERS", b.len ? "," : "");
	return b.len ? buf_detach(&b) : NULL;
}

struct load {
	struct mssql_session *s;
	struct bcp_load bcp;
	struct row_reader in;
	struct timespec t0;
	long rows;
};

/* A record that cannot be sent, or the server refusing a row. */
static int row_failed(struct load *ld, const char *err)
{
	char where[64];
	snprintf(where, sizeof where, "line %lu", ld->in.line);
	if (*err)
		return result_fail(TR_EXIT_FAILED, "input", "%s: %s", where, err);
	if (ld->s->error.number)
		return mssql_report_failure(ld->s, where);
	return result_fail(TR_EXIT_FAILED, "input", "%s: the row was refused", where);
}

/* End a batch of rows: the server inserts them (still inside the run's transaction). */
static int end_batch(struct load *ld, bool last)
{
	DBINT n = last ? bcp_done(ld->s->db) : bcp_batch(ld->s->db);
	if (n < 0 || ld->s->failed || ld->s->dead)
		return mssql_report_failure(ld->s, last ? "the last batch" : "a batch");
	if (!last)
		log_info("copy", "%ld rows sent (%.0f rows/s)", ld->rows, rate(ld->rows, clock_ms_since(&ld->t0)));
	return TR_EXIT_OK;
}

static int send_rows(struct load *ld)
{
	char err[1024];
	int got = opts.header ? row_read(&ld->in, err, sizeof err) : 1, rc;
	while (got == 1 && (got = row_read(&ld->in, err, sizeof err)) == 1) {
		if (bcp_load_row(&ld->bcp, &ld->in, err, sizeof err))
			return row_failed(ld, err);
		ld->rows++;
		if (ld->rows % STOP_CHECK_ROWS == 0 && sig_caught())
			return sig_exit_code();
		if (ld->rows % opts.batch_size == 0 && (rc = end_batch(ld, false)) != TR_EXIT_OK)
			return rc;
	}
	if (got < 0 && sig_caught())
		return sig_exit_code();
	if (got < 0)
		return result_fail(TR_EXIT_FAILED, "input", "%s", err);
	return ld->rows ? end_batch(ld, true) : TR_EXIT_OK; /* no row: db-lib never started the load */
}

/* After a failure: end the bulk-load message a bad record interrupted (its rows reach the
 * server inside the transaction), then roll the transaction back. A stop signal leaves this to
 * mssql_stop (attention, rollback). */
static void roll_back(struct load *ld)
{
	struct mssql_session *s = ld->s;
	if (!s->in_transaction || s->dead || sig_caught())
		return;
	if (ld->bcp.ncols > 0)
		bcp_done(s->db);
	s->in_transaction = false;
	if (mssql_exec(s, "IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION", NULL) == TR_EXIT_OK)
		log_warn("rollback", "rolled back: none of the %ld rows sent to %s stays in it", ld->rows, opts.table);
	else
		log_warn("rollback", "could not roll back (%s): closing the connection, which rolls back",
		         s->error.text);
}

static int load_rows(struct mssql_session *s, int fd, enum row_format format)
{
	struct load ld = { .s = s, .t0 = clock_now() };
	row_reader_init(&ld.in, fd, format, opts.null);
	char *hint = hints();
	int rc = mssql_exec(s, "BEGIN TRANSACTION", NULL);
	if (rc)
		rc = mssql_report_failure(s, "BEGIN TRANSACTION");
	else
		s->in_transaction = true;
	if (rc == TR_EXIT_OK)
		rc = bcp_load_begin(&ld.bcp, s, opts.table, hint);
	if (rc == TR_EXIT_OK)
		rc = send_rows(&ld);
	if (rc == TR_EXIT_OK && (rc = mssql_exec(s, "COMMIT TRANSACTION", NULL)) != TR_EXIT_OK)
		rc = mssql_report_failure(s, "COMMIT TRANSACTION");
	if (rc == TR_EXIT_OK)
		s->in_transaction = false;
	else
		roll_back(&ld);
	double ms = clock_ms_since(&ld.t0);
	cJSON_AddNumberToObject(result_object(), "rows", rc == TR_EXIT_OK ? (double)ld.rows : 0);
	if (rc == TR_EXIT_OK)
		log_info("copy", "%ld rows copied into %s in %.1f s (%.0f rows/s)", ld.rows, opts.table, ms / 1000,
		         rate(ld.rows, ms));
	free(hint);
	bcp_load_free(&ld.bcp);
	row_reader_free(&ld.in);
	return rc;
}

static int copy_in(struct mssql_session *s, enum row_format format)
{
	int fd = STDIN_FILENO;
	if (opts.file && strcmp(opts.file, "-") != 0 && (fd = open(opts.file, O_RDONLY | O_CLOEXEC)) < 0)
		return result_fail(TR_EXIT_USAGE, "input", "cannot open %s: %s", opts.file, strerror(errno));
	int rc = mssql_connect(s);
	if (rc == TR_EXIT_OK)
		rc = load_rows(s, fd, format);
	if (fd != STDIN_FILENO)
		close(fd);
	return rc;
}

/* TDS has no bulk export: bcp out (and freebcp) read a SELECT's rows too. */
static int copy_out(struct mssql_session *s, enum row_format format)
{
	int rc = mssql_connect(s);
	if (rc)
		return rc;
	struct sink sink;
	if ((rc = sink_open(&sink, opts.file)))
		return result_fail(TR_EXIT_FAILED, "output", "cannot create %s: %s", opts.file, strerror(rc));
	struct buf sql = BUF_INIT;
	buf_printf(&sql, "SELECT * FROM %s", opts.table);
	struct tds_output out = { format, opts.null, opts.header, sink.fp };
	struct timespec t0 = clock_now();
	long rows = 0;
	rc = sink_finish(&sink, tds_rows_stream(s, sql.data, opts.table, &out, &rows));
	buf_free(&sql);
	double ms = clock_ms_since(&t0);
	cJSON_AddNumberToObject(result_object(), "rows", (double)rows);
	if (rc == TR_EXIT_OK)
		log_info("copy", "%ld rows copied out of %s in %.1f s (%.0f rows/s)", rows, opts.table, ms / 1000,
		         rate(rows, ms));
	return rc;
}

static int check_opts(const struct strlist *args)
{
	if (args->len != 1 || (strcmp(args->items[0], "in") != 0 && strcmp(args->items[0], "out") != 0))
		return result_fail(TR_EXIT_USAGE, "usage",
		                   "give the direction, in or out; see 'sqlserver-runner copy --help'");
	if (!opts.table || !*opts.table)
		return result_fail(TR_EXIT_USAGE, "usage", "--table is required");
	if (!valid_table_name(opts.table))
		return result_fail(TR_EXIT_USAGE, "usage",
		                   "--table '%s': use a table name (schema.table, [name] or \"name\" for odd names)",
		                   opts.table);
	if (row_format_parse(opts.format, false) < 0)
		return result_fail(TR_EXIT_USAGE, "usage", "--format must be csv or tsv, not '%s'", opts.format);
	if (opts.batch_size < 1)
		return result_fail(TR_EXIT_USAGE, "usage", "--batch-size must be 1 or more, not %ld", opts.batch_size);
	return TR_EXIT_OK;
}

static int copy_main(const struct cmd *cmd, int argc, char **argv)
{
	struct strlist args = { 0 };
	struct mssql_session s = { 0 };
	int rc = cli_parse(cmd, argc, argv, &args);
	if (rc == TR_EXIT_OK)
		rc = check_opts(&args);
	if (rc == TR_EXIT_OK) {
		bool in = strcmp(args.items[0], "in") == 0;
		enum row_format format = (enum row_format)row_format_parse(opts.format, false);
		cJSON_AddStringToObject(result_object(), "direction", args.items[0]);
		cJSON_AddStringToObject(result_object(), "table", opts.table);
		rc = in ? copy_in(&s, format) : copy_out(&s, format);
	}
	if (sig_caught() && s.db)
		rc = mssql_stop(&s);
	mssql_close(&s);
	strlist_free(&args);
	return rc;
}

/* clang-format off */
static const struct opt copy_opts[] = {
	SQL_CONN_OPTS,
	{ "table", 't', OPT_STRING, &opts.table, "TABLE", "the table (schema.table; [name] for odd names)", 0 },
	{ "format", 0, OPT_STRING, &opts.format, "FORMAT", "csv (default) or tsv", 0 },
	{ "file", 'f', OPT_STRING, &opts.file, "PATH", "in: read this file; out: write it, complete or not at all (default stdin/stdout)", 0 },
	{ "header", 0, OPT_BOOL, &opts.header, NULL, "in: skip the first line; out: write the column names first", 0 },
	{ "null", 0, OPT_STRING, &opts.null, "TEXT", "how NULL is written (default: csv an empty field, tsv \\N)", 0 },
	{ "batch-size", 0, OPT_INT, &opts.batch_size, "N", "in: rows per bulk-load batch (default 10000)", 0 },
	{ "tablock", 0, OPT_BOOL, &opts.tablock, NULL, "in: take a table lock for the load (bcp hint TABLOCK)", 0 },
	{ "check-constraints", 0, OPT_BOOL, &opts.check_constraints, NULL, "in: check the table's constraints (bcp hint CHECK_CONSTRAINTS)", 0 },
	{ "fire-triggers", 0, OPT_BOOL, &opts.fire_triggers, NULL, "in: run the table's insert triggers (bcp hint FIRE_TRIGGERS)", 0 },
	{ 0 }
};

const struct cmd cmd_copy = {
	.name = "sqlserver-runner copy",
	.usage = "--conn ID --table TABLE [flags] in|out",
	.summary = "bulk-copy CSV or TSV into a table (TDS bulk load) or out of it, streaming",
	.description =
		"copy in reads CSV or TSV from --file or stdin and sends it with TDS bulk load (db-lib's\n"
		"bcp_*, what freebcp uses), row by row: fields go to the table's columns in order, and\n"
		"every --batch-size rows the server inserts the batch. All batches run in one transaction:\n"
		"a bad record or a refused row rolls back every row of the run and names the input line.\n"
		"Values: what 'query' writes reads back (ISO 8601 dates and times, true/false, 0x hex,\n"
		"exact decimals); an empty field is an empty string in a character column, else NULL.\n"
		"Character columns lose trailing blanks, as with bcp. nchar/nvarchar/ntext get the text\n"
		"as UTF-16; varchar gets its bytes as they are (keep non-ASCII text in n-types).\n"
		"\n"
		"copy out writes the table's rows as CSV or TSV to --file (written under a temporary name,\n"
		"renamed when complete) or stdout, in the same value formats as 'query'. TDS has no bulk\n"
		"export: like bcp out, it streams the rows of a SELECT.\n"
		"\n"
		"CSV is RFC 4180; TSV is PostgreSQL's text format (\\t \\n \\r \\\\ escapes, NULL \\N), so\n"
		"files move between postgres-runner and sqlserver-runner as they are. Rows per second are\n"
		"logged.\n"
		"\n"
		"Examples:\n"
		"  sqlserver-runner copy --conn mssql_dwh --table dbo.sales --header -f /data/sales.csv in\n"
		"  sqlserver-runner copy --conn mssql_dwh --table dbo.sales --format tsv out > sales.tsv\n"
		"\n"
		"Exit codes: 0 copied, 1 bad input or SQL error (nothing is loaded, no file is left),\n"
		"2 usage, 3 authentication, 75 temporary, 128+N signal (cancelled, rolled back).\n",
	.opts = copy_opts,
	.run = copy_main,
};
/* clang-format on */
