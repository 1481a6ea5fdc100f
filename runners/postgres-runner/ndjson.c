/* ndjson: rows as JSON lines, typed by column OID. */
#include "ndjson.h"

#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

/* Built-in type OIDs (pg_type.dat): they never change. */
enum {
	OID_BOOL = 16,
	OID_INT8 = 20,
	OID_INT2 = 21,
	OID_INT4 = 23,
	OID_OID = 26,
	OID_JSON = 114,
	OID_FLOAT4 = 700,
	OID_FLOAT8 = 701,
	OID_NUMERIC = 1700,
	OID_JSONB = 3802
};

static int is_json_number(const char *v)
{
	/* NaN and Infinity are valid numerics but not JSON numbers. */
	return strcmp(v, "NaN") != 0 && strstr(v, "Infinity") == NULL;
}

static cJSON *cell(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return cJSON_CreateNull();
	const char *v = PQgetvalue(res, row, col);
	switch (PQftype(res, col)) {
	case OID_BOOL: return cJSON_CreateBool(v[0] == 't');
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
	case OID_OID:
	case OID_FLOAT4:
	case OID_FLOAT8:
	case OID_NUMERIC: return is_json_number(v) ? cJSON_CreateRaw(v) : cJSON_CreateString(v);
	case OID_JSON:
	case OID_JSONB: return cJSON_CreateRaw(v);
	default: return cJSON_CreateString(v);
	}
}

int ndjson_write_rows(const PGresult *res, FILE *out)
{
	int rows = PQntuples(res), cols = PQnfields(res);
	for (int r = 0; r < rows; r++) {
		cJSON *obj = cJSON_CreateObject();
		for (int c = 0; c < cols; c++)
			cJSON_AddItemToObject(obj, PQfname(res, c), cell(res, r, c));
		char *line = cJSON_PrintUnformatted(obj);
		cJSON_Delete(obj);
		int bad = !line || fputs(line, out) == EOF || fputc('\n', out) == EOF;
		free(line);
		if (bad)
			return -1;
	}
	return 0;
}
