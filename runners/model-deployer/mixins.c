/* mixins: the platform mixins' columns and their expansion into models. */
#include "mixins.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

static const struct mixin_column bronze_cols[] = {
	{ "_loaded_at", "timestamptz", false, DEF_NOW, NULL, ROLE_PLAIN, "when the row was loaded" },
	{ "_source", "varchar(200)", true, DEF_NONE, NULL, ROLE_PLAIN, "where the row came from (system, file)" },
	{ "_batch_id", "varchar(100)", true, DEF_NONE, NULL, ROLE_PLAIN, "the load batch (e.g. the Airflow run id)" },
	{ 0 }
};

static const struct mixin_column transactional_cols[] = {
	{ "created_at", "timestamptz", false, DEF_NOW, NULL, ROLE_PLAIN, "when the row was inserted" },
	{ "updated_at", "timestamptz", false, DEF_NOW, NULL, ROLE_PLAIN, "when the row last changed (trigger)" },
	{ 0 }
};

static const struct mixin_column reference_cols[] = {
	{ "created_by", "varchar(128)", false, DEF_CURRENT_USER, NULL, ROLE_PLAIN, "who inserted the row" },
	{ "updated_by", "varchar(128)", false, DEF_CURRENT_USER, NULL, ROLE_PLAIN, "who last changed it (trigger)" },
	{ "valid_from", "timestamptz", false, DEF_NOW, NULL, ROLE_PERIOD_START,
	  "system time: since when this version is current" },
	{ "valid_to", "timestamptz", false, DEF_STRING, "infinity", ROLE_PERIOD_END,
	  "system time: until when (infinity in the table, the change time in its history)" },
	{ 0 }
};

const struct mixin_def mixin_defs[] = { { "bronze", MIXIN_BRONZE, 0, bronze_cols, false, false,
	                                  "ingest metadata for raw layers" },
	                                { "transactional", MIXIN_TRANSACTIONAL, 0, transactional_cols, true, false,
	                                  "created_at/updated_at kept by a default and a trigger" },
	                                { "reference", MIXIN_REFERENCE, MIXIN_TRANSACTIONAL, reference_cols, true, true,
	                                  "transactional + created_by/updated_by + full history in <table>_history" },
	                                { 0 } };

unsigned mixin_bit(const char *name)
{
	for (const struct mixin_def *d = mixin_defs; d->name; d++)
		if (strcmp(d->name, name) == 0)
			return d->bit;
	return 0;
}

const char *mixin_names(void)
{
	return "bronze, transactional, reference";
}

unsigned mixin_closure(unsigned bits)
{
	unsigned all = bits;
	for (const struct mixin_def *d = mixin_defs; d->name; d++)
		if (bits & d->bit)
			all |= d->includes;
	return all;
}

bool mixin_wants_touch(unsigned bits)
{
	for (const struct mixin_def *d = mixin_defs; d->name; d++)
		if ((mixin_closure(bits) & d->bit) && d->touch)
			return true;
	return false;
}

bool mixin_wants_history(unsigned bits)
{
	for (const struct mixin_def *d = mixin_defs; d->name; d++)
		if ((mixin_closure(bits) & d->bit) && d->history)
			return true;
	return false;
}

void mixin_history_name(const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s_history", name);
}

static void add_mixin_columns(struct table *t, const struct mixin_def *d)
{
	for (const struct mixin_column *mc = d->cols; mc->name; mc++) {
		struct column *c = table_add_column(t);
		char err[160];
		c->name = xstrdup(mc->name);
		(void)ptype_parse(mc->type, &c->type, err, sizeof err); /* the table above is valid */
		c->nullable = mc->nullable;
		c->def.kind = mc->def;
		c->def.text = mc->def_text ? xstrdup(mc->def_text) : NULL;
		c->comment = xstrdup(mc->doc);
		c->role = mc->role;
		c->mixin = d->name;
		c->line = t->line;
	}
}

/* The history table: the base table's columns (no keys, defaults or comments). */
static void add_history(struct model_set *m, size_t base)
{
	char name[160];
	mixin_history_name(m->tables[base].name, name, sizeof name);
	struct table *h = model_add_table(m);
	const struct table *t = &m->tables[base]; /* after the array grew */
	h->schema = xstrdup(t->schema);
	h->name = xstrdup(name);
	h->file = xstrdup(t->file);
	h->line = t->line;
	h->history = true;
	struct buf b = BUF_INIT;
	buf_printf(&b, "history of %s.%s (reference mixin): one row per replaced version", t->schema, t->name);
	h->comment = buf_detach(&b);
	h->cols = xmalloc(t->ncols * sizeof *h->cols);
	for (size_t i = 0; i < t->ncols; i++) {
		column_copy(&h->cols[i], &t->cols[i]);
		free(h->cols[i].def.text);
		free(h->cols[i].comment);
		h->cols[i].def = (struct mdefault){ DEF_NONE, NULL };
		h->cols[i].comment = NULL;
	}
	h->ncols = t->ncols;
}

void mixin_expand(struct model_set *m)
{
	size_t n = m->ntables;
	for (size_t i = 0; i < n; i++) {
		unsigned bits = mixin_closure(m->tables[i].mixins);
		for (const struct mixin_def *d = mixin_defs; d->name; d++)
			if (bits & d->bit)
				add_mixin_columns(&m->tables[i], d);
		if (mixin_wants_history(bits))
			add_history(m, i);
	}
}
