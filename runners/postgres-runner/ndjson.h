/* ndjson: one JSON object per row. Numbers, booleans and json/jsonb columns keep their JSON
 * types (numbers as the server printed them, so no precision is lost); everything else is a
 * string; NULL is null. */
#ifndef PG_NDJSON_H
#define PG_NDJSON_H

#include <libpq-fe.h>
#include <stdio.h>

/* Write every row of res to out. Returns 0, or -1 when out fails. */
int ndjson_write_rows(const PGresult *res, FILE *out);

#endif
