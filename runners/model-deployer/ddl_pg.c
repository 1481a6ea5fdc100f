/* ddl_pg: PostgreSQL statements for the changes of a plan. Identifiers are always quoted (a live
 * catalog may hold any name); the models' own are lower-case, so quoting never changes them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ddl.h"
#include "mixins.h"

static const struct ddl_quoting quoting = { '"', '"', "'" };

static void ident(struct buf *b, const char *name)
{
	ddl_ident(b, &quoting, name);
}

static void literal(struct buf *b, const char *s)
{
	ddl_literal(b, &quoting, s);
}

static void qualified(struct buf *b, const char *schema, const char *name)
{
	ddl_qualified(b, &quoting, schema, name);
}

static void ident_list(struct buf *b, const struct strlist *l)
{
	ddl_ident_list(b, &quoting, l);
}

char *ddl_pg_default(const struct column *c)
{
	struct buf b = BUF_INIT;
	switch (c->def.kind) {
	case DEF_STRING: literal(&b, c->def.text); break;
	case DEF_NOW: buf_puts(&b, c->type.kind == PT_DATE ? "CURRENT_DATE" : "now()"); break;
	case DEF_CURRENT_USER: buf_puts(&b, "CURRENT_USER"); break;
	case DEF_NEW_UUID: buf_puts(&b, "gen_random_uuid()"); break;
	default: buf_puts(&b, c->def.text); break;
	}
	return buf_detach(&b);
}

static void column_def(struct buf *b, const struct column *c)
{
	char ty[64];
	ptype_engine(ENGINE_POSTGRES, &c->type, ty, sizeof ty);
	ident(b, c->name);
	buf_printf(b, " %s", ty);
	if (c->def.kind != DEF_NONE) {
		char *def = ddl_pg_default(c);
		buf_printf(b, " DEFAULT %s", def);
		free(def);
	}
	if (!c->nullable)
		buf_puts(b, " NOT NULL");
}

static void alter(struct buf *b, const struct table *t)
{
	buf_puts(b, "ALTER TABLE ");
	qualified(b, t->schema, t->name);
	buf_putc(b, ' ');
}

static void create_table(struct buf *b, const struct table *t)
{
	buf_puts(b, "CREATE TABLE ");
	qualified(b, t->schema, t->name);
	buf_puts(b, " (");
	for (size_t i = 0; i < t->ncols; i++) {
		buf_puts(b, i ? ",\n    " : "\n    ");
		column_def(b, &t->cols[i]);
	}
	if (t->pk.len) {
		buf_puts(b, ",\n    CONSTRAINT ");
		ident(b, t->pk_name);
		buf_puts(b, " PRIMARY KEY ");
		ident_list(b, &t->pk);
	}
	for (size_t i = 0; i < t->nuniques; i++) {
		buf_puts(b, ",\n    CONSTRAINT ");
		ident(b, t->uniques[i].name);
		buf_puts(b, " UNIQUE ");
		ident_list(b, &t->uniques[i].cols);
	}
	buf_puts(b, "\n)");
}

static void platform_function(struct buf *b, const char *name)
{
	for (const struct ddl_function *f = ddl_functions(ENGINE_POSTGRES); f->name; f++) {
		if (strcmp(f->name, name) != 0)
			continue;
		buf_puts(b, "CREATE OR REPLACE FUNCTION ");
		qualified(b, DDL_PLATFORM_SCHEMA, f->name);
		buf_printf(b, "() RETURNS trigger LANGUAGE plpgsql AS $fn$%s$fn$", f->body);
	}
}

static void trigger(struct buf *b, const struct table *t, const char *kind)
{
	bool history = strcmp(kind, "keep_history") == 0;
	char name[128];
	snprintf(name, sizeof name, "%s_%s", t->name, kind);
	buf_puts(b, "CREATE TRIGGER ");
	ident(b, name);
	buf_puts(b, history ? " AFTER UPDATE OR DELETE ON " : " BEFORE UPDATE ON ");
	qualified(b, t->schema, t->name);
	buf_puts(b, " FOR EACH ROW EXECUTE FUNCTION ");
	qualified(b, DDL_PLATFORM_SCHEMA,
	          history                          ? "keep_history"
	          : mixin_wants_history(t->mixins) ? "touch_reference"
	                                           : "touch");
	buf_puts(b, "()");
}

static void comment(struct buf *b, const struct change *ch)
{
	const char *text = ch->kind == CH_COMMENT_TABLE ? ch->t->comment : ch->c->comment;
	buf_puts(b, ch->kind == CH_COMMENT_TABLE ? "COMMENT ON TABLE " : "COMMENT ON COLUMN ");
	qualified(b, ch->t->schema, ch->t->name);
	if (ch->kind == CH_COMMENT_COLUMN) {
		buf_putc(b, '.');
		ident(b, ch->c->name);
	}
	buf_puts(b, " IS ");
	if (text)
		literal(b, text);
	else
		buf_puts(b, "NULL");
}

/* ALTER TABLE ... ALTER COLUMN c <what>. */
static void alter_column(struct buf *b, const struct change *ch)
{
	char ty[64];
	alter(b, ch->t);
	buf_puts(b, "ALTER COLUMN ");
	ident(b, ch->c->name);
	switch (ch->kind) {
	case CH_ALTER_TYPE:
		ptype_engine(ENGINE_POSTGRES, &ch->c->type, ty, sizeof ty);
		buf_printf(b, " TYPE %s USING ", ty);
		ident(b, ch->c->name);
		buf_printf(b, "::%s", ty);
		break;
	case CH_DROP_NOT_NULL: buf_puts(b, " DROP NOT NULL"); break;
	case CH_SET_NOT_NULL: buf_puts(b, " SET NOT NULL"); break;
	case CH_DROP_DEFAULT: buf_puts(b, " DROP DEFAULT"); break;
	default: {
		char *def = ddl_pg_default(ch->c);
		buf_printf(b, " SET DEFAULT %s", def);
		free(def);
	}
	}
}

static void add_constraint(struct buf *b, const struct change *ch)
{
	alter(b, ch->t);
	buf_puts(b, "ADD CONSTRAINT ");
	if (ch->kind == CH_ADD_PK) {
		ident(b, ch->t->pk_name);
		buf_puts(b, " PRIMARY KEY ");
		ident_list(b, &ch->t->pk);
	} else if (ch->kind == CH_ADD_UNIQUE) {
		ident(b, ch->ix->name);
		buf_puts(b, " UNIQUE ");
		ident_list(b, &ch->ix->cols);
	} else {
		ident(b, ch->fk->name);
		buf_puts(b, " FOREIGN KEY ");
		ident_list(b, &ch->fk->cols);
		buf_puts(b, " REFERENCES ");
		qualified(b, ch->fk->ref_schema, ch->fk->ref_table);
		buf_putc(b, ' ');
		ident_list(b, &ch->fk->ref_cols);
		if (strcmp(ch->fk->on_delete, "NO ACTION") != 0)
			buf_printf(b, " ON DELETE %s", ch->fk->on_delete);
	}
}

static void drop(struct buf *b, const struct change *ch)
{
	if (ch->kind == CH_DROP_TABLE) {
		buf_puts(b, "DROP TABLE ");
		qualified(b, ch->t->schema, ch->t->name);
	} else if (ch->kind == CH_DROP_INDEX) {
		buf_puts(b, "DROP INDEX ");
		qualified(b, ch->t->schema, ch->name);
	} else if (ch->kind == CH_DROP_COLUMN) {
		alter(b, ch->t);
		buf_puts(b, "DROP COLUMN ");
		ident(b, ch->c->name);
	} else {
		alter(b, ch->t);
		buf_puts(b, "DROP CONSTRAINT ");
		ident(b, ch->name);
	}
}

static void create_index(struct buf *b, const struct change *ch)
{
	buf_puts(b, ch->ix->unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ");
	ident(b, ch->ix->name);
	buf_puts(b, " ON ");
	qualified(b, ch->t->schema, ch->t->name);
	buf_putc(b, ' ');
	ident_list(b, &ch->ix->cols);
}

void ddl_pg_change(const struct change *ch, struct strlist *stmts)
{
	struct buf b = BUF_INIT;
	switch (ch->kind) {
	case CH_CREATE_SCHEMA: buf_puts(&b, "CREATE SCHEMA "), ident(&b, ch->name); break;
	case CH_PLATFORM_FUNCTION: platform_function(&b, ch->name); break;
	case CH_CREATE_TABLE: create_table(&b, ch->t); break;
	case CH_ADD_COLUMN: alter(&b, ch->t), buf_puts(&b, "ADD COLUMN "), column_def(&b, ch->c); break;
	case CH_ALTER_TYPE:
	case CH_DROP_NOT_NULL:
	case CH_SET_NOT_NULL:
	case CH_SET_DEFAULT:
	case CH_DROP_DEFAULT: alter_column(&b, ch); break;
	case CH_ADD_PK:
	case CH_ADD_UNIQUE:
	case CH_ADD_FK: add_constraint(&b, ch); break;
	case CH_ADD_INDEX: create_index(&b, ch); break;
	case CH_COMMENT_TABLE:
	case CH_COMMENT_COLUMN: comment(&b, ch); break;
	case CH_ADD_TRIGGER: trigger(&b, ch->t, ch->name); break;
	default: drop(&b, ch); break;
	}
	strlist_push(stmts, buf_str(&b));
	buf_free(&b);
}
