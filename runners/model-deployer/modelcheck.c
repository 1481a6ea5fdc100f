/* modelcheck: validation of a whole model set after its mixins are expanded (model_validate of
 * modelload.h): names, duplicates, keys, defaults against types, and foreign keys to tables of
 * the set. Constraint and index names left out are given their PostgreSQL-style defaults here. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mixins.h"
#include "modelload.h"

#define MAX_NAME 63

struct vctx {
	struct strlist *errors;
	size_t count;
};

static void verr(struct vctx *v, const struct table *t, int line, const char *field, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
static void verr(struct vctx *v, const struct table *t, int line, const char *field, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	buf_printf(&b, "%s:%d: %s.%s: %s: ", t->file ? t->file : "-", line, t->schema, t->name, field);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	strlist_push(v->errors, buf_str(&b));
	buf_free(&b);
	v->count++;
}

/* "<table>_<col>_<col>_<suffix>" unless named; an error when longer than the engines allow. */
static void default_name(struct vctx *v, const struct table *t, char **name, const struct strlist *cols,
                         const char *suffix, int line, const char *field)
{
	if (*name)
		return;
	struct buf b = BUF_INIT;
	buf_puts(&b, t->name);
	for (size_t i = 0; cols && i < cols->len; i++)
		buf_printf(&b, "_%s", cols->items[i]);
	buf_printf(&b, "_%s", suffix);
	if (b.len > MAX_NAME)
		verr(v, t, line, field, "the default name '%s' is longer than %d characters: give it a name",
		     buf_str(&b), MAX_NAME);
	*name = buf_detach(&b);
}

static void check_columns_exist(struct vctx *v, const struct table *t, const struct strlist *cols, int line,
                                const char *field)
{
	for (size_t i = 0; i < cols->len; i++) {
		if (!table_find_column(t, cols->items[i]))
			verr(v, t, line, field, "no column '%s' in %s.%s", cols->items[i], t->schema, t->name);
		for (size_t j = 0; j < i; j++)
			if (strcmp(cols->items[i], cols->items[j]) == 0)
				verr(v, t, line, field, "column '%s' is listed twice", cols->items[i]);
	}
}

static bool default_fits(const struct column *c)
{
	enum ptype k = c->type.kind;
	switch (c->def.kind) {
	case DEF_BOOL: return k == PT_BOOL;
	case DEF_NUMBER: return k == PT_SMALLINT || k == PT_INT || k == PT_BIGINT || k == PT_DECIMAL;
	case DEF_NOW: return k == PT_TIMESTAMP || k == PT_TIMESTAMPTZ || k == PT_DATE;
	case DEF_CURRENT_USER: return k == PT_TEXT || k == PT_VARCHAR;
	case DEF_NEW_UUID: return k == PT_UUID;
	default: return true;
	}
}

static void check_columns(struct vctx *v, struct table *t)
{
	for (size_t i = 0; i < t->ncols; i++) {
		struct column *c = &t->cols[i];
		char ty[48];
		for (size_t j = 0; j < i; j++) {
			if (strcmp(t->cols[j].name, c->name) != 0 || !c->name[0])
				continue;
			if (c->mixin)
				verr(v, t, t->cols[j].line, "columns",
				     "column '%s' is also added by mixin %s: drop it "
				     "from the model",
				     c->name, c->mixin);
			else
				verr(v, t, c->line, "columns", "duplicate column '%s' (first at line %d)", c->name,
				     t->cols[j].line);
		}
		ptype_format(&c->type, ty, sizeof ty);
		if (c->type.kind != PT_UNKNOWN && !default_fits(c))
			verr(v, t, c->line, "columns", "column '%s': default '%s' does not fit type %s", c->name,
			     c->def.text ? c->def.text : "", ty);
		if (strlist_contains(&t->pk, c->name))
			c->nullable = false;
	}
}

static void check_keys(struct vctx *v, struct table *t)
{
	if (t->pk.len) {
		check_columns_exist(v, t, &t->pk, t->line, "primary_key");
		default_name(v, t, &t->pk_name, NULL, "pkey", t->line, "primary_key");
	} else if (mixin_wants_touch(t->mixins)) {
		verr(v, t, t->line, "primary_key", "mixin %s needs a primary key (its trigger finds rows by it)",
		     mixin_wants_history(t->mixins) ? "reference" : "transactional");
	}
	for (size_t i = 0; i < t->nuniques; i++) {
		check_columns_exist(v, t, &t->uniques[i].cols, t->uniques[i].line, "unique");
		default_name(v, t, &t->uniques[i].name, &t->uniques[i].cols, "key", t->uniques[i].line, "unique");
	}
	for (size_t i = 0; i < t->nindexes; i++) {
		check_columns_exist(v, t, &t->indexes[i].cols, t->indexes[i].line, "indexes");
		default_name(v, t, &t->indexes[i].name, &t->indexes[i].cols, "idx", t->indexes[i].line, "indexes");
	}
}

static void check_fkey(struct vctx *v, const struct model_set *m, struct table *t, struct fkey *fk)
{
	check_columns_exist(v, t, &fk->cols, fk->line, "foreign_keys");
	default_name(v, t, &fk->name, &fk->cols, "fkey", fk->line, "foreign_keys");
	const struct table *r = fk->ref_table ? model_find(m, fk->ref_schema, fk->ref_table) : NULL;
	if (!r || r->history) {
		if (fk->ref_table)
			verr(v, t, fk->line, "foreign_keys", "references %s.%s, which no model defines", fk->ref_schema,
			     fk->ref_table);
		return;
	}
	if (fk->cols.len != fk->ref_cols.len) {
		verr(v, t, fk->line, "foreign_keys", "%zu columns reference %zu columns", fk->cols.len,
		     fk->ref_cols.len);
		return;
	}
	for (size_t i = 0; i < fk->ref_cols.len; i++) {
		const struct column *rc = table_find_column(r, fk->ref_cols.items[i]);
		const struct column *c = table_find_column(t, fk->cols.items[i]);
		if (!rc)
			verr(v, t, fk->line, "foreign_keys", "no column '%s' in %s.%s", fk->ref_cols.items[i],
			     r->schema, r->name);
		else if (c && (c->type.kind != rc->type.kind || c->type.p != rc->type.p || c->type.s != rc->type.s))
			verr(v, t, fk->line, "foreign_keys", "column '%s' and %s.%s.%s have different types", c->name,
			     r->schema, r->name, rc->name);
	}
	if (!table_has_key(r, &fk->ref_cols))
		verr(v, t, fk->line, "foreign_keys",
		     "the referenced columns are not the primary key or a unique "
		     "constraint of %s.%s",
		     r->schema, r->name);
}

static void check_duplicate_tables(struct vctx *v, const struct model_set *m)
{
	for (size_t i = 0; i < m->ntables; i++)
		for (size_t j = 0; j < i; j++) {
			const struct table *a = &m->tables[j], *b = &m->tables[i];
			if (strcmp(a->schema, b->schema) != 0 || strcmp(a->name, b->name) != 0 || !a->name[0])
				continue;
			const struct table *user = b->history ? a : b, *other = b->history ? b : a;
			verr(v, user, user->line, "table", "%s (first at %s:%d)",
			     other->history ? "this name is taken by a reference table's history"
			                    : "the table is defined twice",
			     other->file, other->line);
		}
}

size_t model_validate(struct model_set *m, struct strlist *errors)
{
	struct vctx v = { errors, 0 };
	mixin_expand(m);
	check_duplicate_tables(&v, m);
	for (size_t i = 0; i < m->ntables; i++) {
		struct table *t = &m->tables[i];
		if (t->history)
			continue;
		check_columns(&v, t);
		check_keys(&v, t);
		for (size_t k = 0; k < t->nfks; k++)
			check_fkey(&v, m, t, &t->fks[k]);
	}
	return v.count;
}

size_t model_load_all(const char *path, struct model_set *m, struct strlist *errors)
{
	size_t n = model_load_path(path, m, errors);
	if (n == 0)
		n = model_validate(m, errors);
	if (n)
		model_free(m);
	return n;
}
