/* ndjson: the rows of a COPY ... TO STDOUT (text format) as JSON lines, written straight from the
 * COPY text and the column types of the query's description, with no JSON object built per row:
 *   int2, int4, int8, oid, float4, float8, numeric   a JSON number, exactly as the server printed
 *                                                    it (no precision lost); NaN, Infinity and
 *                                                    -Infinity, which JSON has no number for,
 *                                                    become the strings "NaN", "Infinity",
 *                                                    "-Infinity";
 *   bool                                             true / false;
 *   json, jsonb                                      embedded as is (a line break between json
 *                                                    tokens becomes a space: one row, one line);
 *   NULL                                             null;
 *   anything else                                    a JSON string of the server's text form
 *                                                    (arrays, ranges, bytea as \x..., timestamps).
 * Domains arrive as their base type. Strings are escaped per RFC 8259 (", \ and control
 * characters). The text must be UTF-8: the caller sets client_encoding, and the server converts
 * and checks every value (in a SQL_ASCII database, bytes that are not UTF-8 fail the query).
 * Memory is one 64 KiB buffer, whatever the size of a row or a value. */
#ifndef PG_NDJSON_H
#define PG_NDJSON_H

#include <libpq-fe.h>
#include <stdio.h>

#include "buf.h"

struct ndjson_col;

struct ndjson {
	FILE *out;
	char *data; /* output not yet handed to out: len bytes of a fixed buffer */
	size_t len;
	struct buf keys;         /* every column's '{"name":' or ',"name":', back to back */
	struct ndjson_col *cols; /* per column: kind and key */
	int ncols;
	int error; /* the errno of a failed write to out, or 0 */
};

/* A writer for rows with the columns of desc (the query's Describe result). */
void ndjson_init(struct ndjson *w, FILE *out, const PGresult *desc);
/* One row of COPY text format, newline included, as one JSON line (a copy_row_fn). Returns 0,
 * or an errno value when out fails or the row does not have the described columns. */
int ndjson_copy_row(void *writer, const char *row, size_t len);
/* Flush what is pending and free the writer. Returns 0, or the errno value of a failed write. */
int ndjson_finish(struct ndjson *w);

#endif
