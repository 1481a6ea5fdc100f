/* tdsrows: a db-lib result set streamed as CSV, TSV or NDJSON (rowtext.h), one row at a time
 * (dbnextrow, nothing buffered), every value in tdsvalue.h's exact text. In NDJSON, integers,
 * decimal, money, float and real are numbers, bit is true/false, NULL is null; everything else is
 * a string: character types as UTF-8 (FreeTDS converts from the server's UCS-2 and code pages),
 * dates in ISO 8601, binary as 0x..., uniqueidentifier in SQL Server's form. A type db-lib knows
 * but tdsvalue does not (sql_variant, xml, ...) is written as db-lib's conversion to text. */
#ifndef SQLSERVER_TDSROWS_H
#define SQLSERVER_TDSROWS_H

#include <stdbool.h>
#include <stdio.h>

#include "rowtext.h"
#include "tdsconn.h"

struct tds_output {
	enum row_format format;
	const char *null; /* CSV/TSV NULL text; NULL for the format's default */
	bool header;
	FILE *out;
};

/* Send sql and write the rows of its one result set to out. what names it in messages ("the
 * query"). *rows counts the rows written. A statement that returns no rows, or more than one
 * result set, is a failure. Returns TR_EXIT_OK, or the exit code (reported; after a stop signal
 * 128+N, not reported: the caller ends with mssql_stop). */
int tds_rows_stream(struct mssql_session *s, const char *sql, const char *what, const struct tds_output *o, long *rows);

#endif
