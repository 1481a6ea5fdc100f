/* diff: what it takes to bring a live database (read back as models, catalog.h) to the models:
 * an ordered list of changes, each additive or destructive. The diff against an empty catalog
 * is the whole schema (render), so render, plan and apply share one path.
 *
 * A change that is destructive only when the data says so (NOT NULL over a column holding NULLs,
 * a NOT NULL column without default added to a table with rows) carries a check the deployer runs
 * before deciding. Where the engines differ the change carries a note for the plan. */
#ifndef MD_DIFF_H
#define MD_DIFF_H

#include <stdbool.h>

#include "model.h"

/* A live database as the diff needs it. */
struct catalog {
	struct model_set tables;  /* the tables of the schemas the models use */
	struct strlist schemas;   /* every schema of the database */
	struct strlist triggers;  /* "schema.table.trigger" */
	struct strlist functions; /* "name=body" of the platform's functions */
};

/* In the order they must run. */
enum change_kind {
	CH_DROP_FK,
	CH_CREATE_SCHEMA,
	CH_PLATFORM_FUNCTION,
	CH_CREATE_TABLE,
	CH_ADD_COLUMN,
	CH_ALTER_TYPE,
	CH_DROP_NOT_NULL,
	CH_SET_NOT_NULL,
	CH_SET_DEFAULT,
	CH_DROP_DEFAULT,
	CH_DROP_PK,
	CH_ADD_PK,
	CH_DROP_UNIQUE,
	CH_ADD_UNIQUE,
	CH_DROP_INDEX,
	CH_ADD_INDEX,
	CH_ADD_FK,
	CH_COMMENT_TABLE,
	CH_COMMENT_COLUMN,
	CH_ADD_TRIGGER,
	CH_DROP_COLUMN,
	CH_DROP_TABLE
};

enum change_check {
	CHECK_NONE,
	CHECK_HAS_NULLS, /* destructive when column c of table t holds NULLs */
	CHECK_HAS_ROWS   /* destructive when table t has rows */
};

struct change {
	enum change_kind kind;
	const struct table *t;    /* the model's table (the live one for drops) */
	const struct column *c;   /* the model's column (the live one for drops) */
	const struct column *old; /* the live column of an alter */
	const struct index *ix;
	const struct fkey *fk;
	const char *name; /* a trigger's or function's name; what a drop drops */
	bool destructive;
	bool had_value; /* the live object already had a default or comment (SQL Server updates it) */
	enum change_check check;
	const char *reason; /* why it is (or may be) destructive */
	const char *note;   /* where the engines differ */
	size_t seq;         /* the order the diff found it in, within its kind */
};

struct plan {
	struct change *items;
	size_t n;
};

/* The changes that bring live to want on engine e (sorted by kind, stable). */
void diff_models(const struct model_set *want, const struct catalog *live, enum engine e, struct plan *out);

/* The catalog a database deployed from m reads back as on e (for tests and fuzzing: the diff of
 * m against it must be empty). */
void diff_catalog_of(const struct model_set *m, enum engine e, struct catalog *out);

/* A change's kind as the result JSON names it ("add_column"). */
const char *change_kind_name(enum change_kind k);
/* "schema.table[.column|.name]" of a change, into out. */
void change_object(const struct change *ch, char *out, size_t len);

void plan_free(struct plan *p);
void catalog_free(struct catalog *c);

#endif
