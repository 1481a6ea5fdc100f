/* cmd_copy: `postgres-runner copy in|out --table T`, bulk load and unload through COPY. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "commands.h"
#include "copyio.h"
#include "exitcode.h"
#include "log.h"
#include "pgconn.h"
#include "result.h"
#include "sink.h"

static struct {
	const char *table;
	const char *columns;
	const char *format;
	const char *file;
	const char *null;
	bool header;
} opts = { .format = "csv" };

/* The error of a failed PQescapeLiteral (an encoding error in --null, or out of memory). */
static int escape_failed(PGconn *conn)
{
	return result_fail(TR_EXIT_USAGE, "usage", "--null: %s", PQerrorMessage(conn));
}

/* A table name goes into the COPY text as written (so "Mixed"."Case" and schema.table work as
 * in SQL), which is only safe for names made of identifier characters, dots and quotes. */
static int valid_name_list(const char *s, bool allow_commas)
{
	bool quoted = false;
	for (; *s; s++) {
		if (*s == '"')
			quoted = !quoted;
		else if (!quoted && !(isalnum((unsigned char)*s) || *s == '_' || *s == '.' || *s == '$' ||
		                      (unsigned char)*s >= 0x80 || (allow_commas && (*s == ',' || *s == ' '))))
			return 0;
	}
	return !quoted;
}

static char *copy_sql(PGconn *conn, bool in)
{
	struct buf sql = BUF_INIT;
	buf_printf(&sql, "COPY %s", opts.table);
	if (opts.columns)
		buf_printf(&sql, " (%s)", opts.columns);
	buf_printf(&sql, " %s (FORMAT %s", in ? "FROM STDIN" : "TO STDOUT", opts.format);
	if (opts.header)
		buf_puts(&sql, ", HEADER");
	if (opts.null) {
		char *lit = PQescapeLiteral(conn, opts.null, strlen(opts.null));
		if (!lit) {
			buf_free(&sql);
			return NULL;
		}
		buf_printf(&sql, ", NULL %s", lit);
		PQfreemem(lit);
	}
	buf_puts(&sql, ")");
	return buf_detach(&sql);
}

static int copy_in(PGconn *conn, long *rows, long *bytes)
{
	int fd = STDIN_FILENO;
	if (opts.file && strcmp(opts.file, "-") != 0 && (fd = open(opts.file, O_RDONLY | O_CLOEXEC)) < 0)
		return result_fail(TR_EXIT_USAGE, "input", "cannot open %s: %s", opts.file, strerror(errno));
	char *sql = copy_sql(conn, true);
	int rc = sql ? copy_from_fd(conn, sql, fd, rows, bytes) : escape_failed(conn);
	free(sql);
	if (fd != STDIN_FILENO)
		close(fd);
	return rc;
}

static int copy_out(PGconn *conn, long *rows, long *bytes)
{
	struct sink out;
	int rc = sink_open(&out, opts.file);
	if (rc)
		return result_fail(TR_EXIT_FAILED, "output", "cannot create %s: %s", opts.file, strerror(rc));
	char *sql = copy_sql(conn, false);
	rc = sql ? copy_to_stream(conn, sql, out.fp, rows, bytes) : escape_failed(conn);
	free(sql);
	rc = sink_finish(&out, rc);
	return rc;
}

/* stdin that can hold no data to load: a terminal, /dev/null (DockerOperator's default) or closed. */
static bool stdin_has_no_data(void)
{
	struct stat st;
	if (fstat(STDIN_FILENO, &st) < 0 || isatty(STDIN_FILENO))
		return true;
	struct stat null;
	return S_ISCHR(st.st_mode) && stat("/dev/null", &null) == 0 && st.st_rdev == null.st_rdev;
}

static int check_args(const struct cmd *cmd, const struct strlist *args)
{
	if (args->len != 1 || (strcmp(args->items[0], "in") != 0 && strcmp(args->items[0], "out") != 0))
		return result_fail(TR_EXIT_USAGE, "usage", "say 'copy in' or 'copy out'; see '%s --help'", cmd->name);
	bool from_stdin = !opts.file || strcmp(opts.file, "-") == 0;
	if (strcmp(args->items[0], "in") == 0 && from_stdin && stdin_has_no_data())
		return result_fail(TR_EXIT_USAGE, "usage",
		                   "copy in needs --file or data on stdin (stdin is a terminal or /dev/null)");
	if (!opts.table || !valid_name_list(opts.table, false))
		return result_fail(TR_EXIT_USAGE, "usage",
		                   "--table needs a table name like schema.table or \"Quoted\"");
	if (opts.columns && !valid_name_list(opts.columns, true))
		return result_fail(TR_EXIT_USAGE, "usage", "--columns needs a comma-separated list of column names");
	if (strcmp(opts.format, "csv") != 0 && strcmp(opts.format, "text") != 0 && strcmp(opts.format, "binary") != 0)
		return result_fail(TR_EXIT_USAGE, "usage", "--format must be csv, text or binary, not '%s'",
		                   opts.format);
	if (opts.header && strcmp(opts.format, "binary") == 0)
		return result_fail(TR_EXIT_USAGE, "usage", "--header does not apply to --format binary");
	return TR_EXIT_OK;
}

static int copy_main(const struct cmd *cmd, int argc, char **argv)
{
	struct strlist args = { 0 };
	PGconn *conn = NULL;
	long rows = 0, bytes = 0;
	int rc = cli_parse(cmd, argc, argv, &args);
	if (rc == TR_EXIT_OK)
		rc = check_args(cmd, &args);
	if (rc == TR_EXIT_OK)
		rc = pg_connect(&conn);
	bool in = rc == TR_EXIT_OK && strcmp(args.items[0], "in") == 0;
	if (rc == TR_EXIT_OK)
		rc = in ? copy_in(conn, &rows, &bytes) : copy_out(conn, &rows, &bytes);
	if (rc == TR_EXIT_OK) {
		cJSON *r = result_object();
		cJSON_AddStringToObject(r, "direction", in ? "in" : "out");
		cJSON_AddStringToObject(r, "table", opts.table);
		cJSON_AddNumberToObject(r, "rows", (double)rows);
		cJSON_AddNumberToObject(r, "bytes", (double)bytes);
		log_info("copy", "%s %ld rows (%ld bytes) %s %s", in ? "loaded" : "unloaded", rows, bytes,
		         in ? "into" : "from", opts.table);
	}
	PQfinish(conn);
	strlist_free(&args);
	return rc;
}

/* clang-format off */
static const struct opt copy_opts[] = {
	SQL_CONN_OPTS,
	{ "table", 't', OPT_STRING, &opts.table, "TABLE", "the table, as in SQL: name, schema.name or \"Quoted\"", 0 },
	{ "columns", 0, OPT_STRING, &opts.columns, "A,B,...", "only these columns, in this order", 0 },
	{ "format", 0, OPT_STRING, &opts.format, "FORMAT", "csv (default), text or binary", 0 },
	{ "file", 'f', OPT_STRING, &opts.file, "PATH", "read from / write to this file (default stdin / stdout)", 0 },
	{ "header", 0, OPT_BOOL, &opts.header, NULL, "csv/text: the data has a header line", 0 },
	{ "null", 0, OPT_STRING, &opts.null, "TEXT", "how NULL is written in the data", 0 },
	{ 0 }
};

const struct cmd cmd_copy = {
	.name = "postgres-runner copy",
	.usage = "in|out --conn ID --table TABLE [flags]",
	.summary = "bulk load (in) or unload (out) a table through the COPY protocol",
	.description =
		"Streams data between a file (or stdin/stdout) and a table in 256 KiB chunks. 'copy in' is\n"
		"one COPY statement: if anything fails, nothing is loaded. 'copy out --file' writes under\n"
		"a temporary name and renames the file when complete.\n"
		"\n"
		"Examples:\n"
		"  postgres-runner copy in --conn warehouse --table staging.sales --header --file sales.csv\n"
		"  postgres-runner copy out --conn warehouse --table sales --format binary --file sales.bin\n",
	.opts = copy_opts,
	.run = copy_main,
};
/* clang-format on */
