/* ptype: portable column types and their engine types. */
#include "ptype.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The type map: one row per portable type. "%d" / "%d,%d" take varchar's length and decimal's
 * precision and scale. PostgreSQL names are format_type()'s, so a catalog reads back equal. */
static const struct type_row {
	enum ptype kind;
	const char *portable;
	const char *engine[ENGINE_COUNT];
} type_map[] = {
	{ PT_SMALLINT, "smallint", { "smallint", "smallint" } },
	{ PT_INT, "int", { "integer", "int" } },
	{ PT_BIGINT, "bigint", { "bigint", "bigint" } },
	{ PT_DECIMAL, "decimal", { "numeric(%d,%d)", "decimal(%d,%d)" } },
	{ PT_TEXT, "text", { "text", "nvarchar(max)" } },
	{ PT_VARCHAR, "varchar", { "character varying(%d)", "nvarchar(%d)" } },
	{ PT_BOOL, "bool", { "boolean", "bit" } },
	{ PT_DATE, "date", { "date", "date" } },
	{ PT_TIMESTAMP, "timestamp", { "timestamp without time zone", "datetime2(6)" } },
	{ PT_TIMESTAMPTZ, "timestamptz", { "timestamp with time zone", "datetimeoffset(6)" } },
	{ PT_UUID, "uuid", { "uuid", "uniqueidentifier" } },
	{ PT_JSON, "json", { "jsonb", "nvarchar(max)" } },
	{ PT_BYTES, "bytes", { "bytea", "varbinary(max)" } },
};
#define TYPE_ROWS (sizeof type_map / sizeof *type_map)

static const struct type_row *row_of(enum ptype kind)
{
	for (size_t i = 0; i < TYPE_ROWS; i++)
		if (type_map[i].kind == kind)
			return &type_map[i];
	return NULL;
}

const char *engine_name(enum engine e)
{
	return e == ENGINE_POSTGRES ? "postgres" : "mssql";
}

/* A whole number at *s (advanced past it), or -1. */
static int number(const char **s)
{
	char *end;
	if (**s < '0' || **s > '9')
		return -1;
	long v = strtol(*s, &end, 10);
	*s = end;
	return v > 100000 ? -1 : (int)v;
}

/* "(a)" or "(a,b)" after the name: returns the count of numbers read, -1 when malformed. */
static int parse_params(const char *s, int *a, int *b)
{
	if (*s == 0)
		return 0;
	if (*s++ != '(' || (*a = number(&s)) < 0)
		return -1;
	if (s[0] == ')' && s[1] == 0)
		return 1;
	if (*s++ != ',' || (*b = number(&s)) < 0)
		return -1;
	return s[0] == ')' && s[1] == 0 ? 2 : -1;
}

int ptype_parse(const char *text, struct mtype *out, char *err, size_t errlen)
{
	size_t n = strcspn(text, "(");
	const struct type_row *row = NULL;
	for (size_t i = 0; i < TYPE_ROWS && !row; i++)
		if (strlen(type_map[i].portable) == n && strncmp(text, type_map[i].portable, n) == 0)
			row = &type_map[i];
	if (!row) {
		snprintf(err, errlen,
		         "unknown type '%s'; use one of int, bigint, smallint, decimal(p,s), text, "
		         "varchar(n), bool, date, timestamp, timestamptz, uuid, json, bytes",
		         text);
		return -1;
	}
	*out = (struct mtype){ row->kind, 0, 0 };
	int got = parse_params(text + n, &out->p, &out->s);
	int want = row->kind == PT_DECIMAL ? 2 : row->kind == PT_VARCHAR ? 1 : 0;
	if (got != want) {
		snprintf(err, errlen, "type '%s': %s takes %s", text, row->portable,
		         want == 2 ? "a precision and scale: decimal(p,s)"
		         : want    ? "a length: varchar(n)"
		                   : "no parameters");
		return -1;
	}
	if ((want == 2 && (out->p < 1 || out->p > 38 || out->s < 0 || out->s > out->p)) ||
	    (want == 1 && (out->p < 1 || out->p > 4000))) {
		snprintf(err, errlen, "type '%s': %s", text,
		         want == 2 ? "precision must be 1..38 and scale 0..precision" : "length must be 1..4000");
		return -1;
	}
	return 0;
}

static void format_row(const char *fmt, const struct mtype *t, char *out, size_t len)
{
	if (t->kind == PT_DECIMAL)
		snprintf(out, len, fmt, t->p, t->s);
	else if (t->kind == PT_VARCHAR)
		snprintf(out, len, fmt, t->p);
	else
		snprintf(out, len, "%s", fmt);
}

void ptype_format(const struct mtype *t, char *out, size_t len)
{
	const struct type_row *row = row_of(t->kind);
	char fmt[32];
	if (!row) {
		snprintf(out, len, "unknown");
		return;
	}
	snprintf(fmt, sizeof fmt, "%s%s", row->portable,
	         t->kind == PT_DECIMAL   ? "(%d,%d)"
	         : t->kind == PT_VARCHAR ? "(%d)"
	                                 : "");
	format_row(fmt, t, out, len);
}

void ptype_engine(enum engine e, const struct mtype *t, char *out, size_t len)
{
	const struct type_row *row = row_of(t->kind);
	if (row)
		format_row(row->engine[e], t, out, len);
	else
		snprintf(out, len, "unknown");
}

struct mtype ptype_from_engine(enum engine e, const char *spelled)
{
	for (size_t i = 0; i < TYPE_ROWS; i++) {
		struct mtype t = { type_map[i].kind, 0, 0 };
		const char *fmt = type_map[i].engine[e];
		size_t n = strcspn(fmt, "(%");
		if (strchr(fmt, '%') == NULL) {
			if (strcmp(fmt, spelled) == 0)
				return t;
		} else if (strncmp(fmt, spelled, n) == 0 && spelled[n] == '(' &&
		           parse_params(spelled + n, &t.p, &t.s) == (t.kind == PT_DECIMAL ? 2 : 1)) {
			return t;
		}
	}
	return (struct mtype){ PT_UNKNOWN, 0, 0 };
}

static int int_rank(enum ptype k)
{
	return k == PT_SMALLINT ? 1 : k == PT_INT ? 2 : k == PT_BIGINT ? 3 : 0;
}

bool ptype_widens(const struct mtype *from, const struct mtype *to)
{
	if (from->kind == PT_UNKNOWN || to->kind == PT_UNKNOWN)
		return false;
	if (int_rank(from->kind) && int_rank(to->kind))
		return int_rank(from->kind) <= int_rank(to->kind);
	if (from->kind == PT_VARCHAR && to->kind == PT_VARCHAR)
		return from->p <= to->p;
	if (from->kind == PT_VARCHAR && to->kind == PT_TEXT)
		return true;
	if (from->kind == PT_DECIMAL && to->kind == PT_DECIMAL)
		return from->s <= to->s && from->p - from->s <= to->p - to->s;
	if (from->kind == PT_TIMESTAMP && to->kind == PT_TIMESTAMPTZ)
		return false; /* changes the meaning of stored values */
	return from->kind == to->kind && from->p == to->p && from->s == to->s;
}
