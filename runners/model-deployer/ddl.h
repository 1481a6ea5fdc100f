/* ddl: the SQL text of each engine (ddl_pg.c, ddl_tsql.c): statements for a change, defaults,
 * the platform's functions and the triggers mixins ask for. Engine knowledge the diff needs to
 * compare (how a default reads back, which triggers a table has) is here too. */
#ifndef MD_DDL_H
#define MD_DDL_H

#include <stdbool.h>

#include "buf.h"

#include "diff.h"
#include "model.h"

/* A function of the platform (the mixins' trigger functions), installed once per database. */
struct ddl_function {
	const char *name; /* in the platform schema */
	const char *body; /* exactly what the catalog reads back (PostgreSQL: pg_proc.prosrc) */
};

/* The platform schema that holds the functions (PostgreSQL), and the functions (NULL-terminated). */
#define DDL_PLATFORM_SCHEMA "tinyrun"
const struct ddl_function *ddl_functions(enum engine e);

/* The triggers table t needs on e: their kinds ("touch", "keep_history"; a trigger is named
 * <table>_<kind>) into kinds[0..1]. Returns how many. */
size_t ddl_trigger_kinds(enum engine e, const struct table *t, const char *kinds[2]);

/* Column c's type on e as its DDL writes it and the catalog reads it back: SQL Server's system-time
 * period columns (a reference table's valid_from/valid_to) are datetime2(7), SQL Server's own
 * precision for them, whatever the mixin's portable type. */
void ddl_column_type(enum engine e, const struct table *t, const struct column *c, char *out, size_t len);

/* The default expression of a column on e, or NULL when it has none (malloc'd). */
char *ddl_default(enum engine e, const struct column *c);
/* Whether a default as the catalog reads it back is the one wanted (NULL: none). */
bool ddl_default_equal(enum engine e, const char *want, const char *live);

/* Append the statements of one change to stmts (without terminators). */
void ddl_change(enum engine e, const struct change *ch, struct strlist *stmts);

/* A query whose single boolean answer true makes ch destructive, or NULL (malloc'd). */
char *ddl_check_query(enum engine e, const struct change *ch);

/* The batch separator between statements when printing a script: ";" or "\nGO". */
const char *ddl_terminator(enum engine e);

/* How an engine quotes: an identifier between id_open and id_close, a literal between lit_open and
 * a quote; the closing character is doubled inside (SQL's one escaping rule for both). */
struct ddl_quoting {
	char id_open, id_close;
	const char *lit_open;
};
void ddl_ident(struct buf *b, const struct ddl_quoting *q, const char *name);
void ddl_literal(struct buf *b, const struct ddl_quoting *q, const char *s);
/* schema.name, each part quoted */
void ddl_qualified(struct buf *b, const struct ddl_quoting *q, const char *schema, const char *name);
/* (a, b, c), each name quoted */
void ddl_ident_list(struct buf *b, const struct ddl_quoting *q, const struct strlist *names);

/* Engine-specific statement builders (ddl_pg.c, ddl_tsql.c). */
void ddl_pg_change(const struct change *ch, struct strlist *stmts);
char *ddl_pg_default(const struct column *c);
void ddl_tsql_change(const struct change *ch, struct strlist *stmts);
char *ddl_tsql_default(const struct column *c);

#endif
