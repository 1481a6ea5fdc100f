/* ddl_tsql: SQL Server (T-SQL) statements for the changes of a plan. Where SQL Server differs:
 * defaults are named constraints (df_<table>_<column>); comments are MS_Description extended
 * properties; the reference mixin's history is a system-versioned temporal table (its period
 * columns are datetime2 GENERATED ALWAYS, SQL Server keeps <table>_history itself); the touch
 * trigger is an AFTER UPDATE trigger joining inserted on the primary key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ddl.h"
#include "mixins.h"

static const struct ddl_quoting quoting = { '[', ']', "N'" };

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

char *ddl_tsql_default(const struct column *c)
{
	struct buf b = BUF_INIT;
	switch (c->def.kind) {
	case DEF_STRING: literal(&b, c->def.text); break;
	case DEF_BOOL: buf_puts(&b, strcmp(c->def.text, "true") == 0 ? "1" : "0"); break;
	case DEF_NOW:
		buf_puts(&b, c->type.kind == PT_TIMESTAMPTZ ? "SYSDATETIMEOFFSET()"
		             : c->type.kind == PT_DATE      ? "CAST(SYSDATETIME() AS date)"
		                                            : "SYSDATETIME()");
		break;
	case DEF_CURRENT_USER: buf_puts(&b, "SUSER_SNAME()"); break;
	case DEF_NEW_UUID: buf_puts(&b, "NEWID()"); break;
	default: buf_puts(&b, c->def.text); break;
	}
	return buf_detach(&b);
}

static void default_name(struct buf *b, const struct table *t, const struct column *c)
{
	char name[160];
	snprintf(name, sizeof name, "df_%s_%s", t->name, c->name);
	ident(b, name);
}

static void column_def(struct buf *b, const struct table *t, const struct column *c)
{
	char ty[64];
	ident(b, c->name);
	ddl_column_type(ENGINE_MSSQL, t, c, ty, sizeof ty);
	if (c->role != ROLE_PLAIN && mixin_wants_history(t->mixins)) {
		buf_printf(b, " %s GENERATED ALWAYS AS ROW %s NOT NULL", ty,
		           c->role == ROLE_PERIOD_START ? "START" : "END");
		return;
	}
	buf_printf(b, " %s %s", ty, c->nullable ? "NULL" : "NOT NULL");
	if (c->def.kind != DEF_NONE) {
		char *def = ddl_tsql_default(c);
		buf_puts(b, " CONSTRAINT ");
		default_name(b, t, c);
		buf_printf(b, " DEFAULT %s", def);
		free(def);
	}
}

static void alter(struct buf *b, const struct table *t)
{
	buf_puts(b, "ALTER TABLE ");
	qualified(b, t->schema, t->name);
	buf_putc(b, ' ');
}

static void period_and_versioning(struct buf *b, const struct table *t)
{
	const char *start = NULL, *end = NULL;
	for (size_t i = 0; i < t->ncols; i++) {
		if (t->cols[i].role == ROLE_PERIOD_START)
			start = t->cols[i].name;
		else if (t->cols[i].role == ROLE_PERIOD_END)
			end = t->cols[i].name;
	}
	char history[160];
	mixin_history_name(t->name, history, sizeof history);
	buf_puts(b, ",\n    PERIOD FOR SYSTEM_TIME (");
	ident(b, start);
	buf_puts(b, ", ");
	ident(b, end);
	buf_puts(b, ")\n) WITH (SYSTEM_VERSIONING = ON (HISTORY_TABLE = ");
	qualified(b, t->schema, history);
	buf_puts(b, "))");
}

static void create_table(struct buf *b, const struct table *t)
{
	buf_puts(b, "CREATE TABLE ");
	qualified(b, t->schema, t->name);
	buf_puts(b, " (");
	for (size_t i = 0; i < t->ncols; i++) {
		buf_puts(b, i ? ",\n    " : "\n    ");
		column_def(b, t, &t->cols[i]);
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
	if (mixin_wants_history(t->mixins))
		period_and_versioning(b, t);
	else
		buf_puts(b, "\n)");
}

/* AFTER UPDATE: set the mixin's columns on the updated rows, found by primary key. */
static void touch_trigger(struct buf *b, const struct table *t)
{
	char name[160];
	snprintf(name, sizeof name, "%s_touch", t->name);
	buf_puts(b, "CREATE TRIGGER ");
	qualified(b, t->schema, name);
	buf_puts(b, " ON ");
	qualified(b, t->schema, t->name);
	buf_puts(b, " AFTER UPDATE AS\nBEGIN\n    SET NOCOUNT ON;\n    IF TRIGGER_NESTLEVEL() > 1 RETURN;\n"
	            "    UPDATE x SET [updated_at] = SYSDATETIMEOFFSET()");
	if (mixin_wants_history(t->mixins))
		buf_puts(b, ", [updated_by] = SUSER_SNAME()");
	buf_puts(b, "\n    FROM ");
	qualified(b, t->schema, t->name);
	buf_puts(b, " AS x JOIN inserted AS i ON ");
	for (size_t i = 0; i < t->pk.len; i++) {
		buf_puts(b, i ? " AND x." : "x.");
		ident(b, t->pk.items[i]);
		buf_puts(b, " = i.");
		ident(b, t->pk.items[i]);
	}
	buf_puts(b, ";\nEND");
}

/* sp_addextendedproperty (or update) of MS_Description on the table or one of its columns. */
static void comment(struct buf *b, const struct change *ch)
{
	const char *text = ch->kind == CH_COMMENT_TABLE ? ch->t->comment : ch->c->comment;
	buf_printf(b, "EXEC sys.sp_%sextendedproperty @name = N'MS_Description'",
	           !text           ? "drop"
	           : ch->had_value ? "update"
	                           : "add");
	if (text) {
		buf_puts(b, ", @value = ");
		literal(b, text);
	}
	buf_puts(b, ", @level0type = N'SCHEMA', @level0name = ");
	literal(b, ch->t->schema);
	buf_puts(b, ", @level1type = N'TABLE', @level1name = ");
	literal(b, ch->t->name);
	if (ch->kind == CH_COMMENT_COLUMN) {
		buf_puts(b, ", @level2type = N'COLUMN', @level2name = ");
		literal(b, ch->c->name);
	}
}

/* ALTER TABLE t DROP CONSTRAINT df_t_c: the column's default (the deployer names them so). */
static void drop_default(struct strlist *stmts, const struct table *t, const struct column *c)
{
	struct buf b = BUF_INIT;
	alter(&b, t);
	buf_puts(&b, "DROP CONSTRAINT ");
	default_name(&b, t, c);
	strlist_push(stmts, buf_str(&b));
	buf_free(&b);
}

static void add_default(struct strlist *stmts, const struct table *t, const struct column *c)
{
	struct buf b = BUF_INIT;
	char *def = ddl_tsql_default(c);
	alter(&b, t);
	buf_puts(&b, "ADD CONSTRAINT ");
	default_name(&b, t, c);
	buf_printf(&b, " DEFAULT %s FOR ", def);
	ident(&b, c->name);
	strlist_push(stmts, buf_str(&b));
	free(def);
	buf_free(&b);
}

/* ALTER COLUMN restates type and nullability. SQL Server refuses to change the type of a column
 * that has a default constraint: the default is dropped first and put back after. */
static void alter_column(struct strlist *stmts, const struct change *ch)
{
	struct buf b = BUF_INIT;
	char ty[64];
	bool type_with_default = ch->kind == CH_ALTER_TYPE && ch->old && ch->old->def.text;
	if (type_with_default)
		drop_default(stmts, ch->t, ch->c);
	ddl_column_type(ENGINE_MSSQL, ch->t, ch->c, ty, sizeof ty);
	alter(&b, ch->t);
	buf_puts(&b, "ALTER COLUMN ");
	ident(&b, ch->c->name);
	buf_printf(&b, " %s %s", ty, ch->c->nullable ? "NULL" : "NOT NULL");
	strlist_push(stmts, buf_str(&b));
	buf_free(&b);
	if (type_with_default && ch->c->def.kind != DEF_NONE)
		add_default(stmts, ch->t, ch->c);
}

/* A default is a constraint: dropped and added, never altered. */
static void change_default(struct strlist *stmts, const struct change *ch)
{
	if (ch->had_value)
		drop_default(stmts, ch->t, ch->c);
	if (ch->kind == CH_SET_DEFAULT)
		add_default(stmts, ch->t, ch->c);
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
		/* SQL Server has no RESTRICT: NO ACTION is its equivalent. */
		if (strcmp(ch->fk->on_delete, "CASCADE") == 0 || strcmp(ch->fk->on_delete, "SET NULL") == 0)
			buf_printf(b, " ON DELETE %s", ch->fk->on_delete);
	}
}

/* A system-versioned table is unlinked from its history before both are dropped. */
static void drop_table(struct strlist *stmts, const struct table *t)
{
	struct buf b = BUF_INIT;
	char history[160];
	if (t->versioned) {
		alter(&b, t);
		buf_puts(&b, "SET (SYSTEM_VERSIONING = OFF)");
		strlist_push(stmts, buf_str(&b));
		buf_reset(&b);
	}
	buf_puts(&b, "DROP TABLE ");
	qualified(&b, t->schema, t->name);
	strlist_push(stmts, buf_str(&b));
	if (t->versioned) {
		mixin_history_name(t->name, history, sizeof history);
		buf_reset(&b);
		buf_puts(&b, "DROP TABLE ");
		qualified(&b, t->schema, history);
		strlist_push(stmts, buf_str(&b));
	}
	buf_free(&b);
}

static void drop(struct buf *b, const struct change *ch)
{
	if (ch->kind == CH_DROP_INDEX) {
		buf_puts(b, "DROP INDEX ");
		ident(b, ch->name);
		buf_puts(b, " ON ");
		qualified(b, ch->t->schema, ch->t->name);
	} else if (ch->kind == CH_DROP_COLUMN) {
		alter(b, ch->t); /* its default constraint went first (ddl_tsql_change) */
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

void ddl_tsql_change(const struct change *ch, struct strlist *stmts)
{
	struct buf b = BUF_INIT;
	switch (ch->kind) {
	case CH_PLATFORM_FUNCTION: break; /* none on SQL Server: each trigger holds its logic */
	case CH_CREATE_SCHEMA: buf_puts(&b, "CREATE SCHEMA "), ident(&b, ch->name); break;
	case CH_CREATE_TABLE: create_table(&b, ch->t); break;
	case CH_ADD_COLUMN: alter(&b, ch->t), buf_puts(&b, "ADD "), column_def(&b, ch->t, ch->c); break;
	case CH_ALTER_TYPE:
	case CH_DROP_NOT_NULL:
	case CH_SET_NOT_NULL: alter_column(stmts, ch); break;
	case CH_SET_DEFAULT:
	case CH_DROP_DEFAULT: change_default(stmts, ch); break;
	case CH_DROP_TABLE: drop_table(stmts, ch->t); break;
	case CH_ADD_PK:
	case CH_ADD_UNIQUE:
	case CH_ADD_FK: add_constraint(&b, ch); break;
	case CH_ADD_INDEX: create_index(&b, ch); break;
	case CH_COMMENT_TABLE:
	case CH_COMMENT_COLUMN: comment(&b, ch); break;
	case CH_ADD_TRIGGER: touch_trigger(&b, ch->t); break;
	default:
		if (ch->kind == CH_DROP_COLUMN && ch->c->def.text)
			drop_default(stmts, ch->t, ch->c);
		drop(&b, ch);
		break;
	}
	if (b.len)
		strlist_push(stmts, buf_str(&b));
	buf_free(&b);
}
