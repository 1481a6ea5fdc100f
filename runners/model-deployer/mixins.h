/* mixins: the platform mixins, defined here and nowhere else: the columns each adds (in order,
 * after the model's own), and the behaviour each asks the engines for (a trigger that keeps
 * updated_* current; full history). README "Mixins" documents the same table. */
#ifndef MD_MIXINS_H
#define MD_MIXINS_H

#include <stdbool.h>

#include "model.h"

struct mixin_column {
	const char *name;
	const char *type; /* portable */
	bool nullable;
	enum default_kind def;
	const char *def_text; /* for DEF_STRING */
	enum col_role role;
	const char *doc;
};

struct mixin_def {
	const char *name;
	unsigned bit;
	unsigned includes; /* other mixins it brings along */
	const struct mixin_column *cols;
	bool touch;   /* a trigger keeps updated_at (and updated_by, valid_from) current */
	bool history; /* <table>_history with system-time validity */
	const char *doc;
};

/* The mixins, ending with a zeroed entry. */
extern const struct mixin_def mixin_defs[];

/* The bit of mixin name, or 0 when there is none by that name. */
unsigned mixin_bit(const char *name);
/* "bronze, transactional, reference": for error messages. */
const char *mixin_names(void);

/* The mixins' bits with their includes. */
unsigned mixin_closure(unsigned bits);
/* Whether any of bits asks for the touch trigger / for history. */
bool mixin_wants_touch(unsigned bits);
bool mixin_wants_history(unsigned bits);

/* Add every table's mixin columns (after its own, in mixin order, marked with the mixin's name)
 * and the history tables. Columns already present are left to the validator to report. */
void mixin_expand(struct model_set *m);

/* The history table's name for table name: "<name>_history" (written into out). */
void mixin_history_name(const char *name, char *out, size_t len);

#endif
