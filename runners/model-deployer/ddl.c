/* ddl: dispatch to the engines' SQL, and what both share (defaults read back, checks). */
#include "ddl.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mixins.h"

/* The PostgreSQL trigger functions, as pg_proc.prosrc reads them back. touch keeps the
 * transactional columns, touch_reference also who and since when; keep_history copies the old
 * version into <table>_history by column name (so added columns need no new function). */
static const struct ddl_function pg_functions[] = {
	{ "touch", "\nBEGIN\n  NEW.updated_at := now();\n  RETURN NEW;\nEND\n" },
	{ "touch_reference",
	  "\nBEGIN\n  NEW.updated_at := now();\n  NEW.updated_by := current_user;\n  NEW.valid_from := now();\n"
	  "  RETURN NEW;\nEND\n" },
	{ "keep_history",
	  "\nBEGIN\n  EXECUTE format('INSERT INTO %I.%I SELECT (jsonb_populate_record(NULL::%I.%I, $1)).*',\n"
	  "    TG_TABLE_SCHEMA, TG_TABLE_NAME || '_history', TG_TABLE_SCHEMA, TG_TABLE_NAME || '_history')\n"
	  "    USING to_jsonb(OLD) || jsonb_build_object('valid_to', now());\n  RETURN NULL;\nEND\n" },
	{ NULL, NULL }
};
static const struct ddl_function no_functions[] = { { NULL, NULL } };

const struct ddl_function *ddl_functions(enum engine e)
{
	return e == ENGINE_POSTGRES ? pg_functions : no_functions;
}

size_t ddl_trigger_kinds(enum engine e, const struct table *t, const char *kinds[2])
{
	size_t n = 0;
	if (t->history || !mixin_wants_touch(t->mixins))
		return 0;
	kinds[n++] = "touch";
	if (e == ENGINE_POSTGRES && mixin_wants_history(t->mixins))
		kinds[n++] = "keep_history";
	return n;
}

void ddl_column_type(enum engine e, const struct table *t, const struct column *c, char *out, size_t len)
{
	if (e == ENGINE_MSSQL && c->role != ROLE_PLAIN && mixin_wants_history(t->mixins))
		snprintf(out, len, "datetime2(7)");
	else
		ptype_engine(e, &c->type, out, len);
}

char *ddl_default(enum engine e, const struct column *c)
{
	if (c->def.kind == DEF_NONE)
		return NULL;
	if (c->def.kind == DEF_RAW)
		return xstrdup(c->def.text);
	return e == ENGINE_POSTGRES ? ddl_pg_default(c) : ddl_tsql_default(c);
}

/* The last "::type" of s when no quote follows it, or NULL. */
static char *last_cast(char *s)
{
	char *found = NULL;
	for (char *p = strstr(s, "::"); p; p = strstr(p + 2, "::"))
		found = p;
	return found && !strchr(found, '\'') ? found : NULL;
}

/* Strip what the engines add when they store a default: PostgreSQL's trailing casts
 * ('x'::text, '-1'::integer), SQL Server's parentheses ((0)). */
static char *normalise_default(const char *s)
{
	char *d = xstrdup(s);
	size_t n = strlen(d);
	while (n >= 2 && d[0] == '(' && d[n - 1] == ')') {
		memmove(d, d + 1, n - 2);
		d[n -= 2] = 0;
	}
	for (char *cast; (cast = last_cast(d));)
		*cast = 0;
	n = strlen(d);
	if (n >= 2 && d[0] == '\'' && d[n - 1] == '\'' && (isdigit((unsigned char)d[1]) || d[1] == '-')) {
		memmove(d, d + 1, n - 2); /* '-1' -> -1 */
		d[n - 2] = 0;
	}
	for (char *p = d; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

bool ddl_default_equal(enum engine e, const char *want, const char *live)
{
	(void)e;
	if (!want || !live)
		return !want && !live;
	char *a = normalise_default(want), *b = normalise_default(live);
	bool eq = strcmp(a, b) == 0;
	free(a);
	free(b);
	return eq;
}

void ddl_change(enum engine e, const struct change *ch, struct strlist *stmts)
{
	if (e == ENGINE_POSTGRES)
		ddl_pg_change(ch, stmts);
	else
		ddl_tsql_change(ch, stmts);
}

char *ddl_check_query(enum engine e, const struct change *ch)
{
	struct buf b = BUF_INIT;
	const char *q = e == ENGINE_POSTGRES ? "\"" : "[", *qe = e == ENGINE_POSTGRES ? "\"" : "]";
	if (ch->check == CHECK_NONE)
		return NULL;
	if (e == ENGINE_POSTGRES)
		buf_printf(&b, "SELECT EXISTS (SELECT 1 FROM %s%s%s.%s%s%s", q, ch->t->schema, qe, q, ch->t->name, qe);
	else
		buf_printf(&b, "SELECT CASE WHEN EXISTS (SELECT 1 FROM %s%s%s.%s%s%s", q, ch->t->schema, qe, q,
		           ch->t->name, qe);
	if (ch->check == CHECK_HAS_NULLS)
		buf_printf(&b, " WHERE %s%s%s IS NULL", q, ch->c->name, qe);
	buf_puts(&b, e == ENGINE_POSTGRES ? ")" : ") THEN 1 ELSE 0 END");
	return buf_detach(&b);
}

const char *ddl_terminator(enum engine e)
{
	return e == ENGINE_POSTGRES ? ";" : "\nGO";
}

static void quoted(struct buf *b, const char *open, char close, const char *s)
{
	buf_puts(b, open);
	for (const char *p = s ? s : ""; *p; p++) {
		if (*p == close)
			buf_putc(b, close);
		buf_putc(b, *p);
	}
	buf_putc(b, close);
}

void ddl_ident(struct buf *b, const struct ddl_quoting *q, const char *name)
{
	const char open[2] = { q->id_open, '\0' };
	quoted(b, open, q->id_close, name);
}

void ddl_literal(struct buf *b, const struct ddl_quoting *q, const char *s)
{
	quoted(b, q->lit_open, '\'', s);
}

void ddl_qualified(struct buf *b, const struct ddl_quoting *q, const char *schema, const char *name)
{
	ddl_ident(b, q, schema);
	buf_putc(b, '.');
	ddl_ident(b, q, name);
}

void ddl_ident_list(struct buf *b, const struct ddl_quoting *q, const struct strlist *names)
{
	buf_putc(b, '(');
	for (size_t i = 0; i < names->len; i++) {
		if (i)
			buf_puts(b, ", ");
		ddl_ident(b, q, names->items[i]);
	}
	buf_putc(b, ')');
}
