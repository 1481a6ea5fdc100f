/* modelload: YAML model files into models, with line-marked errors. */
#include "modelload.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <yaml.h>

#include "buf.h"
#include "fsutil.h"
#include "mixins.h"

#define MAX_MODEL_FILE (8L << 20)

struct ctx {
	const char *file;
	yaml_document_t *doc;
	char model[160]; /* schema.table or "-" */
	struct strlist *errors;
	size_t count;
};

static void add_error(struct ctx *x, int line, const char *field, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static void add_error(struct ctx *x, int line, const char *field, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	buf_printf(&b, "%s:%d: %s: %s: ", x->file, line, x->model, field);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	strlist_push(x->errors, buf_str(&b));
	buf_free(&b);
	x->count++;
}

static int line_of(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *node(struct ctx *x, int id)
{
	return yaml_document_get_node(x->doc, id);
}

/* A scalar field or an error. */
static const char *want_scalar(struct ctx *x, yaml_node_t *v, const char *field)
{
	const char *s = scalar(v);
	if (!s || !*s)
		add_error(x, line_of(v), field, "expected a non-empty text value");
	return s && *s ? s : NULL;
}

static int want_bool(struct ctx *x, yaml_node_t *v, const char *field, bool *out)
{
	const char *s = scalar(v);
	if (s && (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)) {
		*out = s[0] == 't';
		return 0;
	}
	add_error(x, line_of(v), field, "expected true or false");
	return -1;
}

/* Lower-case snake case, at most 55 characters (room for "_history" within PostgreSQL's 63). */
static bool valid_ident(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 55 || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

/* Set *dst to value; a key given twice (reported by check_keys) keeps its last value. */
static void replace(char **dst, char *value)
{
	free(*dst);
	*dst = value;
}

static char *want_ident(struct ctx *x, yaml_node_t *v, const char *field)
{
	const char *s = want_scalar(x, v, field);
	if (s && !valid_ident(s)) {
		add_error(x, line_of(v), field,
		          "'%s' is not a valid name: use lower-case letters, digits and _ "
		          "(at most 55, starting with a letter or _)",
		          s);
		return NULL;
	}
	return s ? xstrdup(s) : NULL;
}

static void want_ident_list(struct ctx *x, yaml_node_t *v, const char *field, struct strlist *out)
{
	if (!v || v->type != YAML_SEQUENCE_NODE || v->data.sequence.items.start == v->data.sequence.items.top) {
		add_error(x, v ? line_of(v) : 1, field, "expected a non-empty list of names");
		return;
	}
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		char *s = want_ident(x, node(x, *it), field);
		if (s)
			strlist_push(out, s);
		free(s);
	}
}

/* Iterate a mapping's pairs as K (key text, never NULL) and V (value node); pairs whose key is
 * not text are skipped (check_keys reports them). The body must not use break. */
/* K and V are declared names, which cannot be parenthesised. */
// NOLINTBEGIN(bugprone-macro-parentheses)
#define FOR_PAIRS(x, map, K, V)                                                                                        \
	for (yaml_node_pair_t *p_ = (map)->data.mapping.pairs.start; p_ < (map)->data.mapping.pairs.top; p_++)         \
		for (const char *K = scalar(node(x, p_->key)); K; K = NULL)                                            \
			for (yaml_node_t *V = node(x, p_->value); V; V = NULL)
// NOLINTEND(bugprone-macro-parentheses)

/* Reject unknown and repeated keys of a mapping. Returns false when map is not a mapping. */
static bool check_keys(struct ctx *x, yaml_node_t *map, const char *field, const char *const *known)
{
	if (!map || map->type != YAML_MAPPING_NODE) {
		add_error(x, map ? line_of(map) : 1, field, "expected a mapping (key: value)");
		return false;
	}
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = node(x, p->key);
		const char *k = scalar(kn);
		bool ok = false;
		for (const char *const *kk = known; k && *kk && !ok; kk++)
			ok = strcmp(*kk, k) == 0;
		if (!ok)
			add_error(x, line_of(kn), field, "unknown key '%s'", k ? k : "(not text)");
		for (yaml_node_pair_t *q = map->data.mapping.pairs.start; ok && q < p; q++)
			if (strcmp(scalar(node(x, q->key)) ? scalar(node(x, q->key)) : "", k) == 0)
				add_error(x, line_of(kn), field, "key '%s' is given twice", k);
	}
	return true;
}

static bool has_key(struct ctx *x, yaml_node_t *map, const char *key)
{
	FOR_PAIRS(x, map, k, v)
	if (strcmp(k, key) == 0 && v)
		return true;
	return false;
}

static bool is_number(const char *s)
{
	size_t i = s[0] == '-' ? 1 : 0, digits = 0, dots = 0;
	for (; s[i]; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			digits++;
		else if (s[i] == '.' && dots++ == 0)
			continue;
		else
			return false;
	}
	return digits > 0 && digits < 40;
}

static void parse_default(struct ctx *x, yaml_node_t *v, const char *field, struct mdefault *d)
{
	static const struct {
		const char *word;
		enum default_kind kind;
	} words[] = { { "now()", DEF_NOW },
		      { "current_user", DEF_CURRENT_USER },
		      { "new_uuid()", DEF_NEW_UUID },
		      { "true", DEF_BOOL },
		      { "false", DEF_BOOL } };
	const char *s = scalar(v);
	if (!s) {
		add_error(x, line_of(v), field, "expected a value");
		return;
	}
	replace(&d->text, xstrdup(s));
	d->kind = DEF_NONE;
	if (v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
		d->kind = DEF_STRING;
		return;
	}
	for (size_t i = 0; i < sizeof words / sizeof *words; i++)
		if (strcmp(words[i].word, s) == 0)
			d->kind = words[i].kind;
	if (d->kind == DEF_NONE && is_number(s))
		d->kind = DEF_NUMBER;
	if (d->kind == DEF_NONE)
		add_error(x, line_of(v), field,
		          "unknown default '%s': quote a text value, or use a number, true, "
		          "false, now(), current_user or new_uuid()",
		          s);
}

static void parse_column(struct ctx *x, struct table *t, yaml_node_t *m, size_t i)
{
	static const char *const keys[] = { "name", "type", "nullable", "default", "comment", NULL };
	char field[64];
	snprintf(field, sizeof field, "columns[%zu]", i);
	if (!check_keys(x, m, field, keys))
		return;
	struct column *c = table_add_column(t);
	c->line = line_of(m);
	c->type.kind = PT_UNKNOWN;
	FOR_PAIRS(x, m, k, v)
	{
		char sub[96], err[256];
		snprintf(sub, sizeof sub, "%s.%s", field, k);
		if (strcmp(k, "name") == 0) {
			replace(&c->name, want_ident(x, v, sub));
		} else if (strcmp(k, "type") == 0) {
			const char *s = want_scalar(x, v, sub);
			if (s && ptype_parse(s, &c->type, err, sizeof err) < 0)
				add_error(x, line_of(v), sub, "%s", err);
		} else if (strcmp(k, "nullable") == 0) {
			(void)want_bool(x, v, sub, &c->nullable);
		} else if (strcmp(k, "default") == 0) {
			parse_default(x, v, sub, &c->def);
		} else if (strcmp(k, "comment") == 0) {
			const char *s = want_scalar(x, v, sub);
			replace(&c->comment, s ? xstrdup(s) : NULL);
		}
	}
	if (!c->name)
		add_error(x, c->line, field, "a column needs a name");
	if (!c->name)
		c->name = xstrdup("");
	if (c->type.kind == PT_UNKNOWN && !has_key(x, m, "type"))
		add_error(x, c->line, field, "column '%s' needs a type", c->name);
}

static void parse_columns(struct ctx *x, struct table *t, yaml_node_t *v)
{
	if (!v || v->type != YAML_SEQUENCE_NODE || v->data.sequence.items.start == v->data.sequence.items.top) {
		add_error(x, v ? line_of(v) : t->line, "columns", "expected a non-empty list of columns");
		return;
	}
	size_t i = 0;
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++, i++)
		parse_column(x, t, node(x, *it), i);
}

static void parse_index(struct ctx *x, struct table *t, yaml_node_t *m, const char *field, bool is_unique)
{
	static const char *const keys[] = { "name", "columns", "unique", NULL };
	static const char *const ukeys[] = { "name", "columns", NULL };
	if (!check_keys(x, m, field, is_unique ? ukeys : keys))
		return;
	struct index *ix = table_add_index(t, is_unique);
	bool unique = is_unique;
	ix->line = line_of(m);
	yaml_node_t *cols = NULL;
	FOR_PAIRS(x, m, k, v)
	{
		if (strcmp(k, "name") == 0)
			replace(&ix->name, want_ident(x, v, field));
		else if (strcmp(k, "columns") == 0)
			cols = v;
		else if (strcmp(k, "unique") == 0)
			(void)want_bool(x, v, field, &unique);
	}
	ix->unique = unique;
	want_ident_list(x, cols ? cols : m, field, &ix->cols);
}

static void parse_references(struct ctx *x, struct table *t, struct fkey *fk, yaml_node_t *m, const char *field)
{
	static const char *const keys[] = { "schema", "table", "columns", NULL };
	if (!check_keys(x, m, field, keys))
		return;
	yaml_node_t *cols = NULL;
	FOR_PAIRS(x, m, k, v)
	{
		if (strcmp(k, "schema") == 0)
			replace(&fk->ref_schema, want_ident(x, v, field));
		else if (strcmp(k, "table") == 0)
			replace(&fk->ref_table, want_ident(x, v, field));
		else if (strcmp(k, "columns") == 0)
			cols = v;
	}
	if (!fk->ref_schema && t->schema)
		fk->ref_schema = xstrdup(t->schema);
	if (!fk->ref_table)
		add_error(x, line_of(m), field, "references needs a table");
	want_ident_list(x, cols ? cols : m, field, &fk->ref_cols);
}

static void parse_on_delete(struct ctx *x, struct fkey *fk, yaml_node_t *v, const char *field)
{
	static const char *const actions[] = { "no action", "restrict", "cascade", "set null", NULL };
	const char *s = want_scalar(x, v, field);
	for (const char *const *a = actions; s && *a; a++)
		if (strcmp(*a, s) == 0) {
			replace(&fk->on_delete, xstrdup(s));
			for (char *c = fk->on_delete; *c; c++)
				*c = (char)(*c == ' ' ? ' ' : *c - 'a' + 'A');
			return;
		}
	if (s)
		add_error(x, line_of(v), field, "'%s' is not one of no action, restrict, cascade, set null", s);
}

static void parse_fkey(struct ctx *x, struct table *t, yaml_node_t *m, const char *field)
{
	static const char *const keys[] = { "name", "columns", "references", "on_delete", NULL };
	if (!check_keys(x, m, field, keys))
		return;
	struct fkey *fk = table_add_fkey(t);
	fk->line = line_of(m);
	yaml_node_t *cols = NULL, *refs = NULL;
	FOR_PAIRS(x, m, k, v)
	{
		if (strcmp(k, "name") == 0)
			replace(&fk->name, want_ident(x, v, field));
		else if (strcmp(k, "columns") == 0)
			cols = v;
		else if (strcmp(k, "references") == 0)
			refs = v;
		else if (strcmp(k, "on_delete") == 0)
			parse_on_delete(x, fk, v, field);
	}
	want_ident_list(x, cols ? cols : m, field, &fk->cols);
	if (refs)
		parse_references(x, t, fk, refs, field);
	else
		add_error(x, fk->line, field, "a foreign key needs references: {table, columns}");
	if (!fk->on_delete)
		fk->on_delete = xstrdup("NO ACTION");
}

/* Each item of a list field through fn. */
static void each_item(struct ctx *x, struct table *t, yaml_node_t *v, const char *name,
                      void (*fn)(struct ctx *, struct table *, yaml_node_t *, const char *, bool), bool flag)
{
	if (!v || v->type != YAML_SEQUENCE_NODE) {
		add_error(x, v ? line_of(v) : t->line, name, "expected a list");
		return;
	}
	size_t i = 0;
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++, i++) {
		char field[64];
		snprintf(field, sizeof field, "%s[%zu]", name, i);
		fn(x, t, node(x, *it), field, flag);
	}
}

static void index_item(struct ctx *x, struct table *t, yaml_node_t *m, const char *field, bool unique)
{
	parse_index(x, t, m, field, unique);
}

static void fkey_item(struct ctx *x, struct table *t, yaml_node_t *m, const char *field, bool unused)
{
	(void)unused;
	parse_fkey(x, t, m, field);
}

static void parse_mixins(struct ctx *x, struct table *t, yaml_node_t *v)
{
	struct strlist names = { 0 };
	want_ident_list(x, v, "mixins", &names);
	for (size_t i = 0; i < names.len; i++) {
		unsigned bit = mixin_bit(names.items[i]);
		if (!bit)
			add_error(x, line_of(v), "mixins", "unknown mixin '%s'; the mixins are %s", names.items[i],
			          mixin_names());
		t->mixins |= bit;
	}
	strlist_free(&names);
}

/* schema and table first: every later error names the model. */
static void parse_table_name(struct ctx *x, struct table *t, yaml_node_t *m)
{
	FOR_PAIRS(x, m, k, v)
	{
		if (strcmp(k, "schema") == 0)
			replace(&t->schema, want_ident(x, v, "schema"));
		else if (strcmp(k, "table") == 0)
			replace(&t->name, want_ident(x, v, "table"));
	}
	if (t->schema && t->name)
		snprintf(x->model, sizeof x->model, "%s.%s", t->schema, t->name);
	if (!t->schema)
		add_error(x, t->line, "schema", "a model needs a schema (e.g. bronze, silver, gold)");
	if (!t->name)
		add_error(x, t->line, "table", "a model needs a table name");
	if (!t->schema)
		t->schema = xstrdup("");
	if (!t->name)
		t->name = xstrdup("");
}

static void parse_table(struct ctx *x, struct model_set *ms, yaml_node_t *m)
{
	static const char *const keys[] = { "schema",      "table",  "comment",      "mixins",  "columns",
		                            "primary_key", "unique", "foreign_keys", "indexes", NULL };
	snprintf(x->model, sizeof x->model, "-");
	if (!m || m->type != YAML_MAPPING_NODE) {
		add_error(x, m ? line_of(m) : 1, "table", "expected a model: a mapping with schema, table and columns");
		return;
	}
	struct table *t = model_add_table(ms);
	t->file = xstrdup(x->file);
	t->line = line_of(m);
	parse_table_name(x, t, m);
	check_keys(x, m, "table", keys);
	bool has_columns = false;
	FOR_PAIRS(x, m, k, v)
	{
		if (strcmp(k, "comment") == 0) {
			const char *s = want_scalar(x, v, "comment");
			replace(&t->comment, s ? xstrdup(s) : NULL);
		} else if (strcmp(k, "mixins") == 0) {
			parse_mixins(x, t, v);
		} else if (strcmp(k, "columns") == 0) {
			parse_columns(x, t, v);
			has_columns = true;
		} else if (strcmp(k, "primary_key") == 0) {
			want_ident_list(x, v, "primary_key", &t->pk);
		} else if (strcmp(k, "unique") == 0) {
			each_item(x, t, v, "unique", index_item, true);
		} else if (strcmp(k, "indexes") == 0) {
			each_item(x, t, v, "indexes", index_item, false);
		} else if (strcmp(k, "foreign_keys") == 0) {
			each_item(x, t, v, "foreign_keys", fkey_item, false);
		}
	}
	if (!has_columns)
		add_error(x, t->line, "columns", "a model needs columns");
}

/* A file holds one model (a mapping with table:) or several (tables: [...]). */
static void parse_document(struct ctx *x, struct model_set *ms)
{
	yaml_node_t *root = yaml_document_get_root_node(x->doc);
	snprintf(x->model, sizeof x->model, "-");
	if (!root) {
		add_error(x, 1, "-", "the file is empty: write a model (schema, table, columns) or tables: [...]");
		return;
	}
	yaml_node_t *list = NULL;
	if (root->type == YAML_MAPPING_NODE) {
		FOR_PAIRS(x, root, k, v)
		if (strcmp(k, "tables") == 0)
			list = v;
	}
	if (!list) {
		parse_table(x, ms, root);
		return;
	}
	static const char *const keys[] = { "tables", NULL };
	check_keys(x, root, "tables", keys);
	if (list->type != YAML_SEQUENCE_NODE || list->data.sequence.items.start == list->data.sequence.items.top) {
		add_error(x, line_of(list), "tables", "expected a non-empty list of models");
		return;
	}
	for (yaml_node_item_t *it = list->data.sequence.items.start; it < list->data.sequence.items.top; it++)
		parse_table(x, ms, node(x, *it));
}

size_t model_load_text(const char *file, const char *text, size_t len, struct model_set *m, struct strlist *errors)
{
	struct ctx x = { .file = file, .errors = errors, .model = "-" };
	yaml_parser_t parser;
	yaml_document_t doc;
	if (!yaml_parser_initialize(&parser)) {
		add_error(&x, 1, "-", "out of memory");
		return x.count;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		add_error(&x, (int)parser.problem_mark.line + 1, "-", "malformed YAML: %s%s%s",
		          parser.problem ? parser.problem : "cannot parse", parser.context ? " " : "",
		          parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return x.count;
	}
	x.doc = &doc;
	parse_document(&x, m);
	yaml_document_delete(&doc);
	/* A second document in the same file is not a model: say so rather than ignore it. */
	if (yaml_parser_load(&parser, &doc)) {
		if (yaml_document_get_root_node(&doc))
			add_error(&x, (int)doc.start_mark.line + 1, "-",
			          "a second YAML document (---): put each model in the first document");
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	return x.count;
}

static size_t load_file(const char *path, struct model_set *m, struct strlist *errors)
{
	char *text = NULL;
	size_t len = 0;
	int err = fs_read_file(path, MAX_MODEL_FILE, &text, &len);
	if (err) {
		struct ctx x = { .file = path, .errors = errors, .model = "-" };
		add_error(&x, 1, "-", "cannot read the model file: %s", strerror(err));
		return x.count;
	}
	size_t n = model_load_text(path, text, len, m, errors);
	free(text);
	return n;
}

static bool is_model_file(const char *name)
{
	size_t n = strlen(name);
	return name[0] != '.' &&
	       ((n > 4 && strcmp(name + n - 4, ".yml") == 0) || (n > 5 && strcmp(name + n - 5, ".yaml") == 0));
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t model_load_path(const char *path, struct model_set *m, struct strlist *errors)
{
	struct ctx x = { .file = path, .errors = errors, .model = "-" };
	struct stat st;
	if (stat(path, &st) < 0) {
		add_error(&x, 0, "-", "no such model file or folder: %s", strerror(errno));
		return x.count;
	}
	if (!S_ISDIR(st.st_mode))
		return load_file(path, m, errors);
	DIR *d = opendir(path);
	struct strlist files = { 0 };
	for (struct dirent *e; d && (e = readdir(d));)
		if (is_model_file(e->d_name))
			strlist_push(&files, e->d_name);
	if (d)
		closedir(d);
	if (files.len == 0)
		add_error(&x, 0, "-", "the folder holds no model files (*.yml, *.yaml)");
	else
		qsort(files.items, files.len, sizeof *files.items, cmp_names);
	for (size_t i = 0; i < files.len; i++) {
		struct buf p = BUF_INIT;
		buf_printf(&p, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/", files.items[i]);
		x.count += load_file(buf_str(&p), m, errors);
		buf_free(&p);
	}
	strlist_free(&files);
	return x.count;
}
