/* sqlsplit: splits a SQL script into statements the way psql does, and expands psql variables.
 *
 * A statement ends at a ';' outside quotes ('...', E'...', "..."), dollar quotes ($tag$...$tag$),
 * comments (-- and nested block comments) and parentheses. Variables from -v name=value are
 * expanded outside quotes and comments: :name as is, :'name' as a SQL literal, :"name" as an
 * identifier. An unknown variable is left untouched, as psql does (so a[1:n] still works), and
 * :: casts are never variables. A psql meta-command (a line starting with '\') is an error:
 * scripts must be plain SQL. This module uses no libpq, so it is unit-tested and fuzzed on the
 * host. */
#ifndef PG_SQLSPLIT_H
#define PG_SQLSPLIT_H

#include <stddef.h>

#include "strlist.h"

struct sql_stmt {
	char *text; /* without the terminating ';' */
	int line;   /* 1-based line where the statement starts */
};

struct sql_script {
	struct sql_stmt *stmts;
	size_t len;
	struct strlist unknown_vars; /* names of :variables left untouched */
};

/* vars holds "name=value" items. Returns 0, or -1 with err ("line N: ..."). */
int sql_split(const char *text, const struct strlist *vars, struct sql_script *out, char *err, size_t errlen);
void sql_script_free(struct sql_script *s);

/* The value of "name=value" in vars, or NULL. */
const char *sql_var_get(const struct strlist *vars, const char *name, size_t name_len);

#endif
