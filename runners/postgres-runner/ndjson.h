/* ndjson: query rows as JSON lines, written straight from the text the server sends, typed by
 * column OID, with no JSON object built per row:
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
 * and checks every value (in a SQL_ASCII database, bytes that are not UTF-8 fail the query). */
#ifndef PG_NDJSON_H
#define PG_NDJSON_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>

#include "buf.h"

struct ndjson_col;

struct ndjson {
	FILE *out;
	char *data; /* output not yet handed to out: len bytes of a fixed buffer */
	size_t len;
	struct buf keys;         /* every column's '{"name":' or ',"name":', back to back */
	struct ndjson_col *cols; /* per column: kind and key, set from the first result */
	int ncols;               /* -1 until the first result */
	bool failed;             /* a write to out failed */
};

void ndjson_init(struct ndjson *w, FILE *out);
/* Write every row of res (the columns must match the first result's). Returns 0, or -1 when out
 * fails. */
int ndjson_write_rows(struct ndjson *w, const PGresult *res);
/* Flush what is pending and free the writer. Returns 0, or -1 when out failed at any point. */
int ndjson_finish(struct ndjson *w);

#endif
