/* diff: models against a live catalog, into an ordered list of changes. */
#include "diff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ddl.h"
#include "mixins.h"

struct dctx {
	enum engine e;
	const struct catalog *live;
	struct plan *out;
};

static struct change *add(struct dctx *x, enum change_kind k, const struct table *t)
{
	struct plan *p = x->out;
	p->items = xrealloc(p->items, (p->n + 1) * sizeof *p->items);
	struct change *ch = &p->items[p->n++];
	memset(ch, 0, sizeof *ch);
	ch->kind = k;
	ch->t = t;
	ch->seq = p->n;
	return ch;
}

static bool str_eq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

/* SQL Server keeps a temporal table's history itself: no history table of ours there. */
static bool managed(enum engine e, const struct table *t)
{
	return !(e == ENGINE_MSSQL && t->history);
}

static void add_column_change(struct dctx *x, const struct table *t, size_t i)
{
	const struct column *c = &t->cols[i];
	struct change *ch = add(x, CH_ADD_COLUMN, t);
	ch->c = c;
	if (!c->nullable && c->def.kind == DEF_NONE) {
		ch->check = CHECK_HAS_ROWS;
		ch->reason = "a NOT NULL column without a default cannot be added to a table that has rows";
	}
	bool last_own = true;
	for (size_t j = i + 1; j < t->ncols; j++)
		last_own = last_own && t->cols[j].mixin != NULL;
	if (!last_own || c->mixin)
		ch->note = "added at the end of the table: neither PostgreSQL nor SQL Server can add a column in the "
		           "middle (the model's order holds for new databases only)";
	else if (x->e == ENGINE_MSSQL && mixin_wants_history(t->mixins))
		ch->note = "SQL Server adds it to the history table through system versioning";
}

static void diff_type(struct dctx *x, const struct table *t, const struct column *c, const struct column *old)
{
	char want[64];
	ddl_column_type(x->e, t, c, want, sizeof want);
	if (str_eq(want, old->raw_type))
		return;
	struct change *ch = add(x, CH_ALTER_TYPE, t);
	ch->c = c;
	ch->old = old;
	struct mtype from = ptype_from_engine(x->e, old->raw_type ? old->raw_type : "");
	if (!ptype_widens(&from, &c->type)) {
		ch->destructive = true;
		ch->reason = "the new type is narrower than the live one or unrelated to it: values may not fit";
	}
}

static void diff_column(struct dctx *x, const struct table *t, const struct column *c, const struct column *old)
{
	diff_type(x, t, c, old);
	if (c->nullable && !old->nullable) {
		add(x, CH_DROP_NOT_NULL, t)->c = c;
	} else if (!c->nullable && old->nullable) {
		struct change *ch = add(x, CH_SET_NOT_NULL, t);
		ch->c = c;
		ch->check = CHECK_HAS_NULLS;
		ch->reason = "the column holds NULLs, which NOT NULL would refuse";
	}
	char *want = ddl_default(x->e, c);
	/* SQL Server's period columns are GENERATED ALWAYS: they have no default there. */
	bool period = x->e == ENGINE_MSSQL && c->role != ROLE_PLAIN;
	if (!period && !ddl_default_equal(x->e, want, old->def.text)) {
		struct change *ch = add(x, want ? CH_SET_DEFAULT : CH_DROP_DEFAULT, t);
		ch->c = c;
		ch->old = old;
		ch->had_value = old->def.text != NULL;
	}
	free(want);
	if (!str_eq(c->comment, old->comment) && !t->history) {
		struct change *ch = add(x, CH_COMMENT_COLUMN, t);
		ch->c = c;
		ch->had_value = old->comment != NULL;
	}
}

static void diff_columns(struct dctx *x, const struct table *t, const struct table *live)
{
	for (size_t i = 0; i < t->ncols; i++) {
		const struct column *old = table_find_column(live, t->cols[i].name);
		if (old)
			diff_column(x, t, &t->cols[i], old);
		else
			add_column_change(x, t, i);
	}
	for (size_t i = 0; i < live->ncols; i++) {
		if (table_find_column(t, live->cols[i].name))
			continue;
		struct change *ch = add(x, CH_DROP_COLUMN, live);
		ch->c = &live->cols[i];
		ch->destructive = true;
		ch->reason = "dropping a column loses its data";
	}
}

static const struct index *find_index(const struct index *list, size_t n, const struct index *want)
{
	for (size_t i = 0; i < n; i++)
		if (strlist_equal(&list[i].cols, &want->cols) && list[i].unique == want->unique)
			return &list[i];
	return NULL;
}

static void diff_indexes(struct dctx *x, const struct table *t, const struct table *live, bool unique)
{
	const struct index *want = unique ? t->uniques : t->indexes, *have = unique ? live->uniques : live->indexes;
	size_t nwant = unique ? t->nuniques : t->nindexes, nhave = unique ? live->nuniques : live->nindexes;
	for (size_t i = 0; i < nwant; i++)
		if (!find_index(have, nhave, &want[i]))
			add(x, unique ? CH_ADD_UNIQUE : CH_ADD_INDEX, t)->ix = &want[i];
	for (size_t i = 0; i < nhave; i++) {
		if (find_index(want, nwant, &have[i]))
			continue;
		struct change *ch = add(x, unique ? CH_DROP_UNIQUE : CH_DROP_INDEX, live);
		ch->ix = &have[i];
		ch->name = have[i].name;
		ch->destructive = true;
		ch->reason = unique ? "the models no longer have this unique constraint"
		                    : "the models no longer have this index";
	}
}

static bool fkey_equal(const struct fkey *a, const struct fkey *b)
{
	return strlist_equal(&a->cols, &b->cols) && strlist_equal(&a->ref_cols, &b->ref_cols) &&
	       str_eq(a->ref_schema, b->ref_schema) && str_eq(a->ref_table, b->ref_table) &&
	       str_eq(a->on_delete, b->on_delete);
}

static void diff_fkeys(struct dctx *x, const struct table *t, const struct table *live)
{
	for (size_t i = 0; i < t->nfks; i++) {
		bool found = false;
		for (size_t j = 0; live && j < live->nfks && !found; j++)
			found = fkey_equal(&t->fks[i], &live->fks[j]);
		if (!found)
			add(x, CH_ADD_FK, t)->fk = &t->fks[i];
	}
	for (size_t j = 0; live && j < live->nfks; j++) {
		bool found = false;
		for (size_t i = 0; i < t->nfks && !found; i++)
			found = fkey_equal(&t->fks[i], &live->fks[j]);
		if (found)
			continue;
		struct change *ch = add(x, CH_DROP_FK, live);
		ch->fk = &live->fks[j];
		ch->name = live->fks[j].name;
		ch->destructive = true;
		ch->reason = "the models no longer have this foreign key";
	}
}

static void diff_pk(struct dctx *x, const struct table *t, const struct table *live)
{
	if (strlist_equal(&t->pk, &live->pk))
		return;
	if (live->pk.len) {
		struct change *ch = add(x, CH_DROP_PK, live);
		ch->name = live->pk_name;
		ch->destructive = true;
		ch->reason = "the primary key changes";
	}
	if (t->pk.len)
		add(x, CH_ADD_PK, t);
}

static void diff_triggers(struct dctx *x, const struct table *t)
{
	const char *kinds[2];
	size_t n = ddl_trigger_kinds(x->e, t, kinds);
	for (size_t i = 0; i < n; i++) {
		char key[256];
		snprintf(key, sizeof key, "%s.%s.%s_%s", t->schema, t->name, t->name, kinds[i]);
		if (!strlist_contains(&x->live->triggers, key))
			add(x, CH_ADD_TRIGGER, t)->name = kinds[i];
	}
}

static void diff_table(struct dctx *x, const struct table *t)
{
	const struct table *live = model_find(&x->live->tables, t->schema, t->name);
	if (!live) {
		add(x, CH_CREATE_TABLE, t);
		for (size_t i = 0; i < t->nindexes; i++)
			add(x, CH_ADD_INDEX, t)->ix = &t->indexes[i];
		diff_fkeys(x, t, NULL);
		if (t->comment)
			add(x, CH_COMMENT_TABLE, t);
		for (size_t i = 0; i < t->ncols && !t->history; i++)
			if (t->cols[i].comment)
				add(x, CH_COMMENT_COLUMN, t)->c = &t->cols[i];
	} else {
		diff_columns(x, t, live);
		diff_pk(x, t, live);
		diff_indexes(x, t, live, true);
		diff_indexes(x, t, live, false);
		diff_fkeys(x, t, live);
		if (!str_eq(t->comment, live->comment))
			add(x, CH_COMMENT_TABLE, t)->had_value = live->comment != NULL;
	}
	diff_triggers(x, t);
}

static void diff_functions(struct dctx *x, const struct model_set *want)
{
	bool needed = false;
	for (size_t i = 0; i < want->ntables; i++)
		needed = needed || mixin_wants_touch(want->tables[i].mixins);
	if (!needed)
		return;
	if (ddl_functions(x->e)->name && !strlist_contains(&x->live->schemas, DDL_PLATFORM_SCHEMA))
		add(x, CH_CREATE_SCHEMA, NULL)->name = DDL_PLATFORM_SCHEMA;
	for (const struct ddl_function *f = ddl_functions(x->e); f->name; f++) {
		struct buf key = BUF_INIT;
		buf_printf(&key, "%s=%s", f->name, f->body);
		if (!strlist_contains(&x->live->functions, buf_str(&key)))
			add(x, CH_PLATFORM_FUNCTION, NULL)->name = f->name;
		buf_free(&key);
	}
}

static void drop_unmodelled_tables(struct dctx *x, const struct model_set *want)
{
	for (size_t i = 0; i < x->live->tables.ntables; i++) {
		const struct table *t = &x->live->tables.tables[i];
		if (!managed(x->e, t) || model_find(want, t->schema, t->name))
			continue;
		struct change *ch = add(x, CH_DROP_TABLE, t);
		ch->destructive = true;
		ch->reason = "no model defines this table any more: dropping it loses its data";
	}
}

static int cmp_kind(const void *a, const void *b)
{
	const struct change *x = a, *y = b;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq; /* stable: the order the diff found them */
}

void diff_models(const struct model_set *want, const struct catalog *live, enum engine e, struct plan *out)
{
	struct dctx x = { e, live, out };
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < want->ntables; i++) {
		const char *schema = want->tables[i].schema;
		bool seen = strlist_contains(&live->schemas, schema);
		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(want->tables[j].schema, schema) == 0;
		if (!seen)
			add(&x, CH_CREATE_SCHEMA, NULL)->name = schema;
	}
	diff_functions(&x, want);
	for (size_t i = 0; i < want->ntables; i++)
		if (managed(e, &want->tables[i]))
			diff_table(&x, &want->tables[i]);
	drop_unmodelled_tables(&x, want);
	if (out->n)
		qsort(out->items, out->n, sizeof *out->items, cmp_kind);
}

const char *change_kind_name(enum change_kind k)
{
	static const char *const names[] = {
		[CH_DROP_FK] = "drop_foreign_key",      [CH_CREATE_SCHEMA] = "create_schema",
		[CH_PLATFORM_FUNCTION] = "function",    [CH_CREATE_TABLE] = "create_table",
		[CH_ADD_COLUMN] = "add_column",         [CH_ALTER_TYPE] = "alter_type",
		[CH_DROP_NOT_NULL] = "drop_not_null",   [CH_SET_NOT_NULL] = "set_not_null",
		[CH_SET_DEFAULT] = "set_default",       [CH_DROP_DEFAULT] = "drop_default",
		[CH_DROP_PK] = "drop_primary_key",      [CH_ADD_PK] = "add_primary_key",
		[CH_DROP_UNIQUE] = "drop_unique",       [CH_ADD_UNIQUE] = "add_unique",
		[CH_DROP_INDEX] = "drop_index",         [CH_ADD_INDEX] = "add_index",
		[CH_ADD_FK] = "add_foreign_key",        [CH_COMMENT_TABLE] = "comment_table",
		[CH_COMMENT_COLUMN] = "comment_column", [CH_ADD_TRIGGER] = "add_trigger",
		[CH_DROP_COLUMN] = "drop_column",       [CH_DROP_TABLE] = "drop_table",
	};
	return names[k];
}

void change_object(const struct change *ch, char *out, size_t len)
{
	const char *sub = ch->c ? ch->c->name : ch->ix ? ch->ix->name : ch->fk ? ch->fk->name : ch->name;
	if (!ch->t)
		snprintf(out, len, "%s", ch->name);
	else if (sub)
		snprintf(out, len, "%s.%s.%s", ch->t->schema, ch->t->name, sub);
	else
		snprintf(out, len, "%s.%s", ch->t->schema, ch->t->name);
}

void plan_free(struct plan *p)
{
	free(p->items);
	p->items = NULL;
	p->n = 0;
}

void catalog_free(struct catalog *c)
{
	model_free(&c->tables);
	strlist_free(&c->schemas);
	strlist_free(&c->triggers);
	strlist_free(&c->functions);
}

/* The tables of m as engine e's catalog reads them back: engine type spellings and defaults. */
static void copy_as_live(struct table *dst, const struct table *src, enum engine e)
{
	char ty[64];
	memset(dst, 0, sizeof *dst);
	dst->schema = xstrdup(src->schema);
	dst->name = xstrdup(src->name);
	dst->comment = src->comment ? xstrdup(src->comment) : NULL;
	dst->pk_name = src->pk_name ? xstrdup(src->pk_name) : NULL;
	for (size_t i = 0; i < src->pk.len; i++)
		strlist_push(&dst->pk, src->pk.items[i]);
	for (size_t i = 0; i < src->ncols; i++) {
		struct column *c = table_add_column(dst);
		column_copy(c, &src->cols[i]);
		ddl_column_type(e, src, c, ty, sizeof ty);
		c->raw_type = xstrdup(ty);
		free(c->def.text);
		c->def.text = ddl_default(e, &src->cols[i]);
		c->def.kind = c->def.text ? DEF_RAW : DEF_NONE;
	}
	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; i < (k ? src->nindexes : src->nuniques); i++) {
			const struct index *from = k ? &src->indexes[i] : &src->uniques[i];
			struct index *ix = table_add_index(dst, !k);
			ix->name = xstrdup(from->name);
			ix->unique = from->unique;
			for (size_t j = 0; j < from->cols.len; j++)
				strlist_push(&ix->cols, from->cols.items[j]);
		}
	for (size_t i = 0; i < src->nfks; i++) {
		struct fkey *fk = table_add_fkey(dst);
		fk->name = xstrdup(src->fks[i].name);
		fk->ref_schema = xstrdup(src->fks[i].ref_schema);
		fk->ref_table = xstrdup(src->fks[i].ref_table);
		fk->on_delete = xstrdup(src->fks[i].on_delete);
		for (size_t j = 0; j < src->fks[i].cols.len; j++)
			strlist_push(&fk->cols, src->fks[i].cols.items[j]);
		for (size_t j = 0; j < src->fks[i].ref_cols.len; j++)
			strlist_push(&fk->ref_cols, src->fks[i].ref_cols.items[j]);
	}
}

void diff_catalog_of(const struct model_set *m, enum engine e, struct catalog *out)
{
	memset(out, 0, sizeof *out);
	model_schemas(m, &out->schemas);
	strlist_push(&out->schemas, DDL_PLATFORM_SCHEMA);
	for (const struct ddl_function *f = ddl_functions(e); f->name; f++) {
		struct buf b = BUF_INIT;
		buf_printf(&b, "%s=%s", f->name, f->body);
		strlist_push(&out->functions, buf_str(&b));
		buf_free(&b);
	}
	for (size_t i = 0; i < m->ntables; i++) {
		const struct table *t = &m->tables[i];
		const char *kinds[2];
		if (!managed(e, t))
			continue;
		copy_as_live(model_add_table(&out->tables), t, e);
		for (size_t k = 0, n = ddl_trigger_kinds(e, t, kinds); k < n; k++) {
			struct buf b = BUF_INIT;
			buf_printf(&b, "%s.%s.%s_%s", t->schema, t->name, t->name, kinds[k]);
			strlist_push(&out->triggers, buf_str(&b));
			buf_free(&b);
		}
	}
}
