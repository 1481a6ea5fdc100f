/* catalog: a live database read back into models (struct catalog of diff.h). Only the schemas the
 * models use are read; the result compares with models column by column. catalog_pg.c (pg_catalog)
 * and catalog_tsql.c (sys.*) are each engine's queries and how their rows become models; catalog.c
 * what both share. The queries run in deploy.c, so these modules need no database library. */
#ifndef MD_CATALOG_H
#define MD_CATALOG_H

#include "diff.h"

/* One catalog query: "%s" in sql is the list of the models' schemas ('a', 'b'); on_row gets each
 * row's cells (NULL for SQL NULL). A list ends with a NULL sql. */
struct catalog_query {
	const char *sql;
	void (*on_row)(struct catalog *cat, const char *const *cells);
};
extern const struct catalog_query catalog_pg_queries[];
extern const struct catalog_query catalog_tsql_queries[];

/* A copy of a cell, or NULL. */
char *catalog_dup(const char *cell);
/* "a,b,c" into out. */
void catalog_split_list(const char *text, struct strlist *out);
/* The table (schema, name) of cells[0] and cells[1]: NULL when not read. */
struct table *catalog_table(struct catalog *cat, const char *const *cells);
void catalog_add_schema(struct catalog *cat, const char *const *cells);
void catalog_add_trigger(struct catalog *cat, const char *const *cells);

#endif
