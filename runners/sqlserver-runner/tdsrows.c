/* tdsrows: db-lib result sets as CSV, TSV or NDJSON rows (see tdsrows.h). */
#include "tdsrows.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "exitcode.h"
#include "result.h"
#include "signals.h"
#include "tdsvalue.h"

#define STOP_CHECK_ROWS 1024 /* look for a stop signal this often while rows stream in */
#define SYB_UNIQUE      36   /* uniqueidentifier: FreeTDS's SYBUNIQUE, which sybdb.h does not export */

struct writer {
	struct row_writer w;
	DBPROCESS *db;
	int ncols;
	int *types;
	struct buf value; /* one value's text */
};

static void writer_init(struct writer *t, DBPROCESS *db, const struct tds_output *o)
{
	*t = (struct writer){ .db = db, .ncols = dbnumcols(db) };
	t->types = xmalloc((size_t)(t->ncols > 0 ? t->ncols : 1) * sizeof *t->types);
	const char **names = xmalloc((size_t)(t->ncols > 0 ? t->ncols : 1) * sizeof *names);
	for (int c = 0; c < t->ncols; c++) {
		t->types[c] = dbcoltype(db, c + 1);
		names[c] = dbcolname(db, c + 1);
	}
	row_writer_init(&t->w, o->format, o->null, o->out);
	row_writer_columns(&t->w, names, (size_t)t->ncols);
	free(names);
}

static void writer_free(struct writer *t)
{
	row_writer_free(&t->w);
	buf_free(&t->value);
	free(t->types);
}

/* The magnitude bytes of a DBNUMERIC of this precision (after its sign byte): what SQL Server
 * needs for 10^precision - 1. */
static size_t numeric_bytes(unsigned precision)
{
	return ((size_t)precision * 415241 + 999999) / 1000000; /* ceil(precision * log(10) / log(256)) */
}

static void format_datetimeall(struct buf *b, int type, const BYTE *data)
{
	DBDATETIMEALL v;
	memcpy(&v, data, sizeof v);
	if (type == SYBMSDATE)
		tv_date(b, v.date);
	else if (type == SYBMSTIME)
		tv_time(b, v.time, v.time_prec);
	else if (type == SYBMSDATETIME2)
		tv_datetime2(b, v.date, v.time, v.time_prec);
	else
		tv_datetimeoffset(b, v.date, v.time, v.time_prec, v.offset);
}

/* Numbers and bits: returns false for a type that is not one. */
static bool format_number(struct buf *b, int type, const BYTE *data)
{
	switch (type) {
	case SYBINT1: buf_printf(b, "%u", (unsigned)data[0]); return true;
	case SYBINT2: {
		int16_t v;
		memcpy(&v, data, sizeof v);
		buf_printf(b, "%d", v);
		return true;
	}
	case SYBINT4: {
		int32_t v;
		memcpy(&v, data, sizeof v);
		buf_printf(b, "%ld", (long)v);
		return true;
	}
	case SYBINT8: {
		int64_t v;
		memcpy(&v, data, sizeof v);
		buf_printf(b, "%lld", (long long)v);
		return true;
	}
	case SYBBIT: tv_bit(b, data[0] != 0); return true;
	case SYBREAL: {
		float v;
		memcpy(&v, data, sizeof v);
		tv_float(b, v, true);
		return true;
	}
	case SYBFLT8: {
		double v;
		memcpy(&v, data, sizeof v);
		tv_float(b, v, false);
		return true;
	}
	case SYBMONEY: {
		DBMONEY v;
		memcpy(&v, data, sizeof v);
		tv_money(b, (int64_t)(((uint64_t)(uint32_t)v.mnyhigh << 32) | v.mnylow));
		return true;
	}
	case SYBMONEY4: {
		DBMONEY4 v;
		memcpy(&v, data, sizeof v);
		tv_money(b, v.mny4);
		return true;
	}
	case SYBDECIMAL:
	case SYBNUMERIC: {
		DBNUMERIC v;
		memcpy(&v, data, sizeof v);
		size_t n = numeric_bytes(v.precision);
		tv_decimal(b, v.array[0] == 1, v.array + 1, n < sizeof v.array ? n : sizeof v.array - 1, v.scale);
		return true;
	}
	default: return false;
	}
}

/* Everything that is written as a JSON string. */
static void format_text(struct writer *t, int c, const BYTE *data, DBINT len)
{
	struct buf *b = &t->value;
	int type = t->types[c];
	switch (type) {
	case SYBMSDATE:
	case SYBMSTIME:
	case SYBMSDATETIME2:
	case SYBMSDATETIMEOFFSET: format_datetimeall(b, type, data); return;
	case SYBDATETIME: {
		DBDATETIME v;
		memcpy(&v, data, sizeof v);
		tv_datetime(b, v.dtdays, v.dttime);
		return;
	}
	case SYBDATETIME4: {
		DBDATETIME4 v;
		memcpy(&v, data, sizeof v);
		tv_smalldatetime(b, v.days, v.minutes);
		return;
	}
	case SYB_UNIQUE: {
		uint32_t d1;
		uint16_t d2, d3;
		memcpy(&d1, data, 4);
		memcpy(&d2, data + 4, 2);
		memcpy(&d3, data + 6, 2);
		tv_guid(b, d1, d2, d3, data + 8);
		return;
	}
	case SYBBINARY:
	case SYBVARBINARY:
	case SYBIMAGE: tv_binary(b, data, (size_t)len); return;
	case SYBCHAR:
	case SYBVARCHAR:
	case SYBTEXT:
	case SYBNTEXT:
	case SYBNVARCHAR: buf_append(b, data, (size_t)len); return;
	default: { /* sql_variant and the like: db-lib's text, with room for any length */
		size_t room = (size_t)(len > 0 ? len : 0) * 4 + 256;
		char *text = xmalloc(room);
		DBINT n = dbconvert(t->db, type, data, len, SYBCHAR, (BYTE *)text, (DBINT)room - 1);
		buf_append(b, text, n > 0 ? (size_t)n : 0);
		free(text);
	}
	}
}

static int write_row(struct writer *t)
{
	for (int c = 0; c < t->ncols; c++) {
		const BYTE *data = dbdata(t->db, c + 1);
		if (!data) {
			row_null(&t->w);
			continue;
		}
		buf_reset(&t->value);
		buf_puts(&t->value, "");
		bool number = format_number(&t->value, t->types[c], data);
		if (!number)
			format_text(t, c, data, dbdatlen(t->db, c + 1));
		row_value(&t->w, t->value.data, t->value.len, number ? ROW_LITERAL : ROW_STRING);
	}
	return row_end(&t->w);
}

/* Read the rows of the current result set into t. Returns TR_EXIT_OK, or the exit code. */
static int write_rows(struct mssql_session *s, struct writer *t, const char *what, long *rows)
{
	RETCODE rc;
	while ((rc = dbnextrow(s->db)) == REG_ROW) {
		int error = write_row(t);
		if (error)
			return result_fail(TR_EXIT_FAILED, "output", "cannot write the output: %s", strerror(error));
		if (++*rows % STOP_CHECK_ROWS == 0 && sig_caught())
			return sig_exit_code();
	}
	if (rc == NO_MORE_ROWS && !s->failed && !s->stopped && !s->dead && !s->timed_out)
		return TR_EXIT_OK;
	if (s->stopped || sig_caught())
		return sig_exit_code();
	return mssql_report_failure(s, what);
}

/* The rest of the batch after the rows: messages and errors, and no second result set. */
static int finish_batch(struct mssql_session *s, const char *what)
{
	RETCODE rc;
	bool more_rows = false;
	while ((rc = mssql_results(s)) == SUCCEED) {
		more_rows |= dbnumcols(s->db) > 0;
		while (dbnextrow(s->db) == REG_ROW)
			;
	}
	if (s->stopped || sig_caught())
		return sig_exit_code();
	if (rc == FAIL || s->failed || s->dead || s->timed_out)
		return mssql_report_failure(s, what);
	if (more_rows)
		return result_fail(TR_EXIT_FAILED, "sql_error",
		                   "%s returned more than one result set: give one SELECT (use 'run' for scripts)",
		                   what);
	return TR_EXIT_OK;
}

int tds_rows_stream(struct mssql_session *s, const char *sql, const char *what, const struct tds_output *o, long *rows)
{
	*rows = 0;
	RETCODE rc = mssql_send(s, sql, strlen(sql));
	while (rc != FAIL && (rc = mssql_results(s)) == SUCCEED && dbnumcols(s->db) == 0)
		; /* results without columns: SET, DECLARE, ... */
	if (s->stopped || sig_caught())
		return sig_exit_code();
	if (rc == FAIL || s->failed || s->dead || s->timed_out)
		return mssql_report_failure(s, what);
	if (rc == NO_MORE_RESULTS)
		return result_fail(TR_EXIT_FAILED, "sql_error",
		                   "%s returned no rows: give a SELECT (use 'run' for other statements)", what);
	struct writer t;
	writer_init(&t, s->db, o);
	int code = o->header ? row_write_header(&t.w) : 0;
	if (code)
		code = result_fail(TR_EXIT_FAILED, "output", "cannot write the output: %s", strerror(code));
	else
		code = write_rows(s, &t, what, rows);
	writer_free(&t);
	return code ? code : finish_batch(s, what);
}
