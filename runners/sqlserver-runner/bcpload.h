/* bcpload: rows of text into a table through db-lib's bulk copy (bcp_init, bcp_bind, bcp_sendrow,
 * bcp_batch, bcp_done: TDS's BULK LOAD, what freebcp uses), one row at a time from program
 * variables, so nothing is buffered but the row.
 *
 * Each field is bound to its table column by position. FreeTDS converts text for most types
 * (integers, decimal and money exactly, float, uniqueidentifier, binary as hex with or without
 * 0x); where it falls short this module converts first: nchar, nvarchar and ntext from UTF-8 to
 * UTF-16 (db-lib sends program variables as they are; varchar gets the bytes as given, so
 * non-ASCII text belongs in the n-types),
 * date, time, datetime2, datetimeoffset, datetime and smalldatetime take ISO 8601 (tdsvalue.h;
 * an offset only for datetimeoffset), bit takes true/false as well as 1/0. An empty field is an
 * empty string in a character column and NULL in any other. */
#ifndef SQLSERVER_BCPLOAD_H
#define SQLSERVER_BCPLOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "rowtext.h"
#include "tdsconn.h"

struct bcp_column;

struct bcp_load {
	struct mssql_session *s;
	struct bcp_column *cols;
	int ncols;
};

/* Learn the table's columns (SELECT TOP 0), start the bulk copy with hints ("TABLOCK,..." or
 * NULL) and bind every column. Returns TR_EXIT_OK, or the exit code (reported). */
int bcp_load_begin(struct bcp_load *l, struct mssql_session *s, const char *table, const char *hints);
/* Send one record. Returns 0, or -1 with err ("column NAME: ...") for a record that does not fit;
 * a failure of the server or the connection is in l->s. */
int bcp_load_row(struct bcp_load *l, const struct row_reader *r, char *err, size_t errlen);
void bcp_load_free(struct bcp_load *l);

#endif
