/* model: building, searching and freeing table models. */
#include "model.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"

#define GROW(arr, n)                                                                                                   \
	((arr) = xrealloc((arr), ((n) + 1) * sizeof *(arr)), memset(&(arr)[(n)], 0, sizeof *(arr)), &(arr)[(n)++])

struct table *model_add_table(struct model_set *m)
{
	return GROW(m->tables, m->ntables);
}

struct column *table_add_column(struct table *t)
{
	struct column *c = GROW(t->cols, t->ncols);
	c->nullable = true;
	return c;
}

struct index *table_add_index(struct table *t, bool unique)
{
	struct index *ix = unique ? GROW(t->uniques, t->nuniques) : GROW(t->indexes, t->nindexes);
	ix->unique = unique;
	return ix;
}

struct fkey *table_add_fkey(struct table *t)
{
	return GROW(t->fks, t->nfks);
}

struct table *model_find(const struct model_set *m, const char *schema, const char *name)
{
	for (size_t i = 0; i < m->ntables; i++)
		if (strcmp(m->tables[i].schema, schema) == 0 && strcmp(m->tables[i].name, name) == 0)
			return &m->tables[i];
	return NULL;
}

struct column *table_find_column(const struct table *t, const char *name)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (strcmp(t->cols[i].name, name) == 0)
			return &t->cols[i];
	return NULL;
}

bool strlist_equal(const struct strlist *a, const struct strlist *b)
{
	if (a->len != b->len)
		return false;
	for (size_t i = 0; i < a->len; i++)
		if (strcmp(a->items[i], b->items[i]) != 0)
			return false;
	return true;
}

bool strlist_contains(const struct strlist *l, const char *s)
{
	for (size_t i = 0; i < l->len; i++)
		if (strcmp(l->items[i], s) == 0)
			return true;
	return false;
}

bool table_has_key(const struct table *t, const struct strlist *cols)
{
	if (t->pk.len && strlist_equal(&t->pk, cols))
		return true;
	for (size_t i = 0; i < t->nuniques; i++)
		if (strlist_equal(&t->uniques[i].cols, cols))
			return true;
	return false;
}

char *strlist_join(const struct strlist *l, const char *sep)
{
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < l->len; i++)
		buf_printf(&b, "%s%s", i ? sep : "", l->items[i]);
	return b.data ? buf_detach(&b) : xstrdup("");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void model_schemas(const struct model_set *m, struct strlist *out)
{
	for (size_t i = 0; i < m->ntables; i++)
		if (!strlist_contains(out, m->tables[i].schema))
			strlist_push(out, m->tables[i].schema);
	if (out->len)
		qsort(out->items, out->len, sizeof *out->items, cmp_str);
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void column_copy(struct column *dst, const struct column *src)
{
	*dst = *src;
	dst->name = xstrdup(src->name);
	dst->raw_type = dup_or_null(src->raw_type);
	dst->def.text = dup_or_null(src->def.text);
	dst->comment = dup_or_null(src->comment);
}

static void index_free(struct index *ix)
{
	free(ix->name);
	strlist_free(&ix->cols);
}

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->ncols; i++) {
		free(t->cols[i].name);
		free(t->cols[i].raw_type);
		free(t->cols[i].def.text);
		free(t->cols[i].comment);
	}
	for (size_t i = 0; i < t->nuniques; i++)
		index_free(&t->uniques[i]);
	for (size_t i = 0; i < t->nindexes; i++)
		index_free(&t->indexes[i]);
	for (size_t i = 0; i < t->nfks; i++) {
		free(t->fks[i].name);
		free(t->fks[i].ref_schema);
		free(t->fks[i].ref_table);
		free(t->fks[i].on_delete);
		strlist_free(&t->fks[i].cols);
		strlist_free(&t->fks[i].ref_cols);
	}
	strlist_free(&t->pk);
	free(t->pk_name);
	free(t->cols);
	free(t->uniques);
	free(t->indexes);
	free(t->fks);
	free(t->schema);
	free(t->name);
	free(t->comment);
	free(t->file);
}

void model_free(struct model_set *m)
{
	for (size_t i = 0; i < m->ntables; i++)
		table_free(&m->tables[i]);
	free(m->tables);
	m->tables = NULL;
	m->ntables = 0;
}
