/* model: the in-memory form of table models, shared by the loader (YAML files), the catalog
 * readers (a live database read back into the same shape), the diff and the renderers.
 *
 * Identifiers are lower-case snake case (the loader enforces it), so no renderer needs to
 * quote-escape them. A table that a mixin adds (a reference table's history) is marked history. */
#ifndef MD_MODEL_H
#define MD_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "ptype.h"
#include "strlist.h"

/* A default value, portable: a literal or one of the functions every engine has. */
enum default_kind {
	DEF_NONE,
	DEF_NUMBER,       /* text holds the number as written */
	DEF_STRING,       /* text holds the string (unquoted) */
	DEF_BOOL,         /* text is "true" or "false" */
	DEF_NOW,          /* the current time */
	DEF_CURRENT_USER, /* the session's login */
	DEF_NEW_UUID,     /* a fresh random uuid */
	DEF_RAW           /* read from a catalog: text is the engine's own expression */
};

struct mdefault {
	enum default_kind kind;
	char *text;
};

/* Columns the reference mixin adds for system time (SQL Server's PERIOD FOR SYSTEM_TIME). */
enum col_role { ROLE_PLAIN, ROLE_PERIOD_START, ROLE_PERIOD_END };

struct column {
	char *name;
	struct mtype type;
	char *raw_type; /* a catalog's own spelling of the type; NULL for a model */
	bool nullable;
	struct mdefault def;
	char *comment;
	enum col_role role;
	const char *mixin; /* the mixin that added it, or NULL */
	int line;
};

struct index {
	char *name;
	struct strlist cols;
	bool unique;
	int line;
};

struct fkey {
	char *name;
	struct strlist cols;
	char *ref_schema, *ref_table;
	struct strlist ref_cols;
	char *on_delete; /* "NO ACTION", "CASCADE", "SET NULL", "RESTRICT" */
	int line;
};

enum mixin_bit { MIXIN_BRONZE = 1, MIXIN_TRANSACTIONAL = 2, MIXIN_REFERENCE = 4 };

struct table {
	char *schema, *name, *comment;
	char *file; /* the model file, or NULL for a catalog */
	int line;
	struct column *cols;
	size_t ncols;
	char *pk_name;
	struct strlist pk;
	struct index *uniques, *indexes;
	size_t nuniques, nindexes;
	struct fkey *fks;
	size_t nfks;
	unsigned mixins;
	bool history;   /* the history table of a reference table */
	bool versioned; /* read from SQL Server: a system-versioned temporal table */
};

struct model_set {
	struct table *tables;
	size_t ntables;
};

struct table *model_add_table(struct model_set *m);
struct column *table_add_column(struct table *t);
struct index *table_add_index(struct table *t, bool unique);
struct fkey *table_add_fkey(struct table *t);

struct table *model_find(const struct model_set *m, const char *schema, const char *name);
struct column *table_find_column(const struct table *t, const char *name);
/* True when cols (in order) are t's primary key or one of its unique constraints. */
bool table_has_key(const struct table *t, const struct strlist *cols);
bool strlist_equal(const struct strlist *a, const struct strlist *b);
bool strlist_contains(const struct strlist *l, const char *s);
/* "a, b, c" joined with sep into a new string. */
char *strlist_join(const struct strlist *l, const char *sep);

/* The schemas the set's tables live in, each once, sorted. */
void model_schemas(const struct model_set *m, struct strlist *out);

void column_copy(struct column *dst, const struct column *src);
void model_free(struct model_set *m);

#endif
