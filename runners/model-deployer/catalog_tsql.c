/* catalog_tsql: the live SQL Server schema from the sys.* catalog views, into models. Types are
 * spelled back the way ptype.c writes them (nvarchar(100), decimal(12,2), datetime2(6)); a
 * system-versioned table's history (temporal_type 1) is marked history, since SQL Server keeps it;
 * comments are the MS_Description extended properties. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "catalog.h"

#define TEMPORAL_HISTORY   "1"
#define TEMPORAL_VERSIONED "2"

static void on_table(struct catalog *cat, const char *const *cells)
{
	struct table *t = model_add_table(&cat->tables);
	t->schema = xstrdup(cells[0]);
	t->name = xstrdup(cells[1]);
	t->comment = catalog_dup(cells[2]);
	t->history = cells[3] && strcmp(cells[3], TEMPORAL_HISTORY) == 0;
	t->versioned = cells[3] && strcmp(cells[3], TEMPORAL_VERSIONED) == 0;
}

static long number(const char *cell)
{
	return cell ? strtol(cell, NULL, 10) : 0;
}

/* The type as ptype.c spells it: sys.columns keeps lengths in bytes (nvarchar: 2 a character,
 * -1 for max), precision and scale apart. */
static char *type_text(const char *name, long max_length, long precision, long scale)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, name);
	if (strcmp(name, "nvarchar") == 0 || strcmp(name, "nchar") == 0) {
		if (max_length < 0)
			buf_puts(&b, "(max)");
		else
			buf_printf(&b, "(%ld)", max_length / 2);
	} else if (strcmp(name, "varchar") == 0 || strcmp(name, "char") == 0 || strcmp(name, "varbinary") == 0 ||
	           strcmp(name, "binary") == 0) {
		if (max_length < 0)
			buf_puts(&b, "(max)");
		else
			buf_printf(&b, "(%ld)", max_length);
	} else if (strcmp(name, "decimal") == 0 || strcmp(name, "numeric") == 0) {
		buf_printf(&b, "(%ld,%ld)", precision, scale);
	} else if (strcmp(name, "datetime2") == 0 || strcmp(name, "datetimeoffset") == 0 || strcmp(name, "time") == 0) {
		buf_printf(&b, "(%ld)", scale);
	}
	return buf_detach(&b);
}

static void on_column(struct catalog *cat, const char *const *cells)
{
	struct table *t = catalog_table(cat, cells);
	if (!t)
		return;
	struct column *c = table_add_column(t);
	long generated = number(cells[8]);
	c->name = xstrdup(cells[2]);
	c->raw_type = type_text(cells[3] ? cells[3] : "?", number(cells[4]), number(cells[5]), number(cells[6]));
	c->type = ptype_from_engine(ENGINE_MSSQL, c->raw_type);
	c->nullable = number(cells[7]) != 0;
	c->role = generated == 1 ? ROLE_PERIOD_START : generated == 2 ? ROLE_PERIOD_END : ROLE_PLAIN;
	c->def.text = catalog_dup(cells[9]);
	c->def.kind = c->def.text ? DEF_RAW : DEF_NONE;
	c->comment = catalog_dup(cells[10]);
}

/* One row per key column, in key order: a new index starts when its name changes. */
static void on_index_column(struct catalog *cat, const char *const *cells)
{
	struct table *t = catalog_table(cat, cells);
	if (!t || !cells[2] || !cells[6])
		return;
	bool pk = number(cells[3]) != 0, constraint = number(cells[4]) != 0, unique = number(cells[5]) != 0;
	if (pk) {
		if (!t->pk_name)
			t->pk_name = xstrdup(cells[2]);
		strlist_push(&t->pk, cells[6]);
		return;
	}
	struct index *list = constraint ? t->uniques : t->indexes;
	size_t n = constraint ? t->nuniques : t->nindexes;
	struct index *ix = n && strcmp(list[n - 1].name, cells[2]) == 0 ? &list[n - 1] : NULL;
	if (!ix) {
		ix = table_add_index(t, constraint);
		ix->name = xstrdup(cells[2]);
		ix->unique = unique;
	}
	strlist_push(&ix->cols, cells[6]);
}

/* NO_ACTION -> NO ACTION, as the models spell it. */
static char *delete_action(const char *desc)
{
	char *s = xstrdup(desc ? desc : "NO_ACTION");
	for (char *p = s; *p; p++)
		if (*p == '_')
			*p = ' ';
	return s;
}

static void on_fkey_column(struct catalog *cat, const char *const *cells)
{
	struct table *t = catalog_table(cat, cells);
	if (!t || !cells[2])
		return;
	struct fkey *fk = t->nfks && strcmp(t->fks[t->nfks - 1].name, cells[2]) == 0 ? &t->fks[t->nfks - 1] : NULL;
	if (!fk) {
		fk = table_add_fkey(t);
		fk->name = xstrdup(cells[2]);
		fk->ref_schema = catalog_dup(cells[4]);
		fk->ref_table = catalog_dup(cells[5]);
		fk->on_delete = delete_action(cells[7]);
	}
	strlist_push(&fk->cols, cells[3]);
	strlist_push(&fk->ref_cols, cells[6]);
}

#define TABLE_JOIN " JOIN sys.schemas s ON s.schema_id = t.schema_id "
#define DESCRIPTION(minor)                                                                                             \
	" LEFT JOIN sys.extended_properties ep ON ep.class = 1 AND ep.major_id = t.object_id AND ep.minor_id = " minor \
	" AND ep.name = N'MS_Description' "

/* clang-format off */
const struct catalog_query catalog_tsql_queries[] = {
	{ "SELECT name FROM sys.schemas", catalog_add_schema },
	{ "SELECT s.name, t.name, CAST(ep.value AS nvarchar(4000)), t.temporal_type FROM sys.tables t" TABLE_JOIN
	  DESCRIPTION("0") "WHERE s.name IN (%s) ORDER BY s.name, t.name",
	  on_table },
	{ "SELECT s.name, t.name, c.name, ty.name, c.max_length, c.precision, c.scale, c.is_nullable, "
	  "c.generated_always_type, dc.definition, CAST(ep.value AS nvarchar(4000)) "
	  "FROM sys.columns c JOIN sys.tables t ON t.object_id = c.object_id" TABLE_JOIN
	  "JOIN sys.types ty ON ty.user_type_id = c.user_type_id "
	  "LEFT JOIN sys.default_constraints dc ON dc.object_id = c.default_object_id"
	  DESCRIPTION("c.column_id") "WHERE s.name IN (%s) ORDER BY s.name, t.name, c.column_id",
	  on_column },
	{ "SELECT s.name, t.name, i.name, i.is_primary_key, i.is_unique_constraint, i.is_unique, c.name "
	  "FROM sys.indexes i JOIN sys.tables t ON t.object_id = i.object_id" TABLE_JOIN
	  "JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id "
	  "JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id "
	  "WHERE s.name IN (%s) AND i.type > 0 AND ic.is_included_column = 0 "
	  "ORDER BY s.name, t.name, i.name, ic.key_ordinal",
	  on_index_column },
	{ "SELECT s.name, t.name, fk.name, pc.name, rs.name, rt.name, rc.name, fk.delete_referential_action_desc "
	  "FROM sys.foreign_keys fk JOIN sys.tables t ON t.object_id = fk.parent_object_id" TABLE_JOIN
	  "JOIN sys.foreign_key_columns fkc ON fkc.constraint_object_id = fk.object_id "
	  "JOIN sys.columns pc ON pc.object_id = fkc.parent_object_id AND pc.column_id = fkc.parent_column_id "
	  "JOIN sys.tables rt ON rt.object_id = fk.referenced_object_id "
	  "JOIN sys.schemas rs ON rs.schema_id = rt.schema_id "
	  "JOIN sys.columns rc ON rc.object_id = fkc.referenced_object_id AND rc.column_id = fkc.referenced_column_id "
	  "WHERE s.name IN (%s) ORDER BY s.name, t.name, fk.name, fkc.constraint_column_id",
	  on_fkey_column },
	{ "SELECT s.name, t.name, tr.name FROM sys.triggers tr JOIN sys.tables t ON t.object_id = tr.parent_id"
	  TABLE_JOIN "WHERE s.name IN (%s) ORDER BY s.name, t.name, tr.name",
	  catalog_add_trigger },
	{ NULL, NULL },
};
/* clang-format on */
