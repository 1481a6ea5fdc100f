/* bcpload: bulk copy of text rows into a table with db-lib's bcp_* (see bcpload.h). */
#include "bcpload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "exitcode.h"
#include "result.h"
#include "tdsvalue.h"

/* The server types of nvarchar and nchar (FreeTDS's XSYBNVARCHAR and XSYBNCHAR, not in sybdb.h). */
#define SERVER_NVARCHAR 231
#define SERVER_NCHAR    239

enum bind_kind { BIND_TEXT, BIND_CHARS, BIND_UNICODE, BIND_BIT, BIND_WHEN };

struct bcp_column {
	char *name;
	int type;            /* dbcoltype */
	enum bind_kind kind; /* how a field becomes the bound value */
	DBDATETIMEALL when;  /* BIND_WHEN: the bound value */
	struct buf wide;     /* BIND_UNICODE: the value in UTF-16LE */
};

static enum bind_kind kind_of(int type)
{
	switch (type) {
	case SYBCHAR:
	case SYBVARCHAR:
	case SYBTEXT:
	case SYBNTEXT:
	case SYBNVARCHAR: return BIND_CHARS;
	case SYBBIT: return BIND_BIT;
	case SYBMSDATE:
	case SYBMSTIME:
	case SYBMSDATETIME2:
	case SYBMSDATETIMEOFFSET:
	case SYBDATETIME:
	case SYBDATETIME4: return BIND_WHEN;
	default: return BIND_TEXT;
	}
}

/* How a column of this db-lib type takes text; the server's type tells nvarchar from varchar. */
static enum bind_kind column_kind(DBPROCESS *db, int c, int type)
{
	DBCOL2 info = { .SizeOfStruct = sizeof info };
	enum bind_kind kind = kind_of(type);
	if (kind == BIND_CHARS && dbtablecolinfo(db, c, (DBCOL *)&info) == SUCCEED &&
	    (info.ServerType == SERVER_NVARCHAR || info.ServerType == SERVER_NCHAR || info.ServerType == SYBNTEXT))
		return BIND_UNICODE;
	return kind;
}

/* The table's column names and types, from an empty SELECT. */
static int describe(struct bcp_load *l, const char *table)
{
	struct mssql_session *s = l->s;
	struct buf sql = BUF_INIT;
	buf_printf(&sql, "SELECT TOP 0 * FROM %s", table);
	RETCODE rc = mssql_send(s, sql.data, sql.len);
	buf_free(&sql);
	if (rc == SUCCEED && (rc = mssql_results(s)) == SUCCEED) {
		l->ncols = dbnumcols(s->db);
		l->cols = xmalloc((size_t)(l->ncols > 0 ? l->ncols : 1) * sizeof *l->cols);
		for (int c = 0; c < l->ncols; c++) {
			int type = dbcoltype(s->db, c + 1);
			l->cols[c] = (struct bcp_column){
				xstrdup(dbcolname(s->db, c + 1)), type, column_kind(s->db, c + 1, type), { 0 }, BUF_INIT
			};
		}
		while (dbnextrow(s->db) == REG_ROW)
			;
		while (mssql_results(s) == SUCCEED)
			;
	}
	if (rc == FAIL || s->failed || s->dead || s->stopped || s->timed_out)
		return mssql_report_failure(s, "reading the table's columns");
	return TR_EXIT_OK;
}

/* Bind every column: dates from a DBDATETIMEALL of the column's own type (datetime and
 * smalldatetime from a datetime2), everything else from text; the address and length are set
 * per row. */
static int bind_columns(struct bcp_load *l)
{
	static BYTE placeholder[1];
	for (int c = 0; c < l->ncols; c++) {
		struct bcp_column *col = &l->cols[c];
		bool when = col->kind == BIND_WHEN;
		int type = !when                                                   ? SYBCHAR
		           : col->type == SYBDATETIME || col->type == SYBDATETIME4 ? SYBMSDATETIME2
		                                                                   : col->type;
		/* A fixed type (the dates) takes no length: -1. */
		if (bcp_bind(l->s->db, when ? (BYTE *)&col->when : placeholder, 0, when ? -1 : 1, NULL, 0, type,
		             c + 1) == FAIL)
			return mssql_report_failure(l->s, "binding the bulk copy's columns");
	}
	return TR_EXIT_OK;
}

int bcp_load_begin(struct bcp_load *l, struct mssql_session *s, const char *table, const char *hints)
{
	*l = (struct bcp_load){ .s = s };
	int rc = describe(l, table);
	if (rc)
		return rc;
	if (bcp_init(s->db, table, NULL, NULL, DB_IN) == FAIL)
		return mssql_report_failure(s, "starting the bulk copy (bcp_init)");
	if (hints && bcp_options(s->db, BCPHINTS, (BYTE *)hints, (int)strlen(hints)) == FAIL)
		return mssql_report_failure(s, "setting the bulk copy's hints");
	return bind_columns(l);
}

/* Put one field's value where its binding points; -1 with err when the text does not fit. */
static int set_field(struct bcp_load *l, int c, const char *text, size_t len, bool is_null, char *err, size_t errlen)
{
	static const char empty[2] = { 0, 0 };
	struct bcp_column *col = &l->cols[c];
	DBPROCESS *db = l->s->db;
	bool chars = col->kind == BIND_CHARS || col->kind == BIND_UNICODE;
	if (is_null || (len == 0 && !chars))
		return bcp_collen(db, 0, c + 1) == FAIL ? -1 : 0;
	if (len == 0) /* db-lib's empty string: one NUL character */
		return bcp_colptr(db, (BYTE *)empty, c + 1) == FAIL ||
		                       bcp_collen(db, col->kind == BIND_UNICODE ? 2 : 1, c + 1) == FAIL
		               ? -1
		               : 0;
	if (col->kind == BIND_UNICODE) {
		buf_reset(&col->wide);
		if (tv_utf16le(&col->wide, text, len)) {
			snprintf(err, errlen, "column %s: the text is not UTF-8", col->name);
			return -1;
		}
		text = col->wide.data;
		len = col->wide.len;
	}
	if (col->kind == BIND_BIT) {
		bool v;
		if (tv_parse_bit(text, len, &v)) {
			snprintf(err, errlen, "column %s: '%.*s' is not a bit (true/false, 1/0)", col->name, (int)len,
			         text);
			return -1;
		}
		text = v ? "1" : "0";
		len = 1;
	}
	if (col->kind == BIND_WHEN) {
		struct tv_when w;
		if (tv_parse_datetime(text, len, &w) || (w.has_offset && col->type != SYBMSDATETIMEOFFSET)) {
			snprintf(err, errlen, "column %s: '%.*s' is not an ISO 8601 %s", col->name, (int)len, text,
			         col->type == SYBMSDATETIMEOFFSET ? "date and time (with an offset)" : "date and time");
			return -1;
		}
		col->when = (DBDATETIMEALL){ .time = w.ticks,
			                     .date = w.days,
			                     .offset = (DBSMALLINT)w.offset_minutes,
			                     .time_prec = 7,
			                     .has_time = w.has_time,
			                     .has_date = w.has_date,
			                     .has_offset = col->type == SYBMSDATETIMEOFFSET };
		return bcp_collen(db, -1, c + 1) == FAIL ? -1 : 0;
	}
	return bcp_colptr(db, (BYTE *)text, c + 1) == FAIL || bcp_collen(db, (DBINT)len, c + 1) == FAIL ? -1 : 0;
}

int bcp_load_row(struct bcp_load *l, const struct row_reader *r, char *err, size_t errlen)
{
	if ((int)r->nfields != l->ncols) {
		snprintf(err, errlen, "%zu fields, but the table has %d columns", r->nfields, l->ncols);
		return -1;
	}
	err[0] = '\0';
	for (int c = 0; c < l->ncols; c++)
		if (set_field(l, c, r->rec.data + r->start[c], r->len[c], r->is_null[c], err, errlen))
			return -1;
	return bcp_sendrow(l->s->db) == FAIL ? -1 : 0;
}

void bcp_load_free(struct bcp_load *l)
{
	for (int c = 0; c < l->ncols; c++) {
		free(l->cols[c].name);
		buf_free(&l->cols[c].wide);
	}
	free(l->cols);
	l->cols = NULL;
	l->ncols = 0;
}
