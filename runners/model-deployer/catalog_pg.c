/* catalog_pg: the live PostgreSQL schema from pg_catalog, into models. */
#include <string.h>

#include "buf.h"
#include "catalog.h"
#include "ddl.h"

static void on_table(struct catalog *cat, const char *const *cells)
{
	struct table *t = model_add_table(&cat->tables);
	t->schema = xstrdup(cells[0]);
	t->name = xstrdup(cells[1]);
	t->comment = catalog_dup(cells[2]);
}

static void on_column(struct catalog *cat, const char *const *cells)
{
	struct table *t = catalog_table(cat, cells);
	if (!t)
		return;
	struct column *c = table_add_column(t);
	c->name = xstrdup(cells[2]);
	c->raw_type = xstrdup(cells[3]);
	c->type = ptype_from_engine(ENGINE_POSTGRES, c->raw_type);
	c->nullable = strcmp(cells[4], "t") != 0;
	c->def.text = catalog_dup(cells[5]);
	c->def.kind = c->def.text ? DEF_RAW : DEF_NONE;
	c->comment = catalog_dup(cells[6]);
}

static const char *delete_action(char code)
{
	return code == 'r'   ? "RESTRICT"
	       : code == 'c' ? "CASCADE"
	       : code == 'n' ? "SET NULL"
	       : code == 'd' ? "SET DEFAULT"
	                     : "NO ACTION";
}

static void on_constraint(struct catalog *cat, const char *const *cells)
{
	struct table *t = catalog_table(cat, cells);
	char type = cells[3][0];
	if (!t)
		return;
	if (type == 'p') {
		t->pk_name = xstrdup(cells[2]);
		catalog_split_list(cells[4], &t->pk);
	} else if (type == 'u') {
		struct index *ix = table_add_index(t, true);
		ix->name = xstrdup(cells[2]);
		catalog_split_list(cells[4], &ix->cols);
	} else {
		struct fkey *fk = table_add_fkey(t);
		fk->name = xstrdup(cells[2]);
		catalog_split_list(cells[4], &fk->cols);
		fk->ref_schema = catalog_dup(cells[5]);
		fk->ref_table = catalog_dup(cells[6]);
		catalog_split_list(cells[7], &fk->ref_cols);
		fk->on_delete = xstrdup(delete_action(cells[8][0]));
	}
}

static void on_index(struct catalog *cat, const char *const *cells)
{
	struct table *t = catalog_table(cat, cells);
	if (!t)
		return;
	struct index *ix = table_add_index(t, false);
	ix->name = xstrdup(cells[2]);
	ix->unique = strcmp(cells[3], "t") == 0;
	catalog_split_list(cells[4], &ix->cols);
}

static void on_function(struct catalog *cat, const char *const *cells)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s=%s", cells[0], cells[1]);
	strlist_push(&cat->functions, buf_str(&b));
	buf_free(&b);
}

#define NSP_JOIN " JOIN pg_namespace n ON n.oid = c.relnamespace "
/* The column names of an attnum array (conkey, indkey) of relation rel, in order. */
#define ATT_NAMES(arr, rel)                                                                                            \
	"(SELECT string_agg(a.attname, ',' ORDER BY u.o) FROM unnest(" arr ") WITH ORDINALITY u(n, o) "                \
	"JOIN pg_attribute a ON a.attrelid = " rel " AND a.attnum = u.n)"

/* clang-format off */
const struct catalog_query catalog_pg_queries[] = {
	{ "SELECT nspname FROM pg_namespace", catalog_add_schema },
	{ "SELECT n.nspname, c.relname, obj_description(c.oid, 'pg_class') FROM pg_class c" NSP_JOIN
	  "WHERE c.relkind IN ('r', 'p') AND n.nspname IN (%s) ORDER BY 1, 2",
	  on_table },
	{ "SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
	  "pg_get_expr(d.adbin, d.adrelid), col_description(c.oid, a.attnum) "
	  "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid" NSP_JOIN
	  "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
	  "WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND n.nspname IN (%s) "
	  "ORDER BY 1, 2, a.attnum",
	  on_column },
	{ "SELECT n.nspname, c.relname, k.conname, k.contype, " ATT_NAMES("k.conkey", "k.conrelid") ", "
	  "rn.nspname, rc.relname, " ATT_NAMES("k.confkey", "k.confrelid") ", k.confdeltype "
	  "FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid" NSP_JOIN
	  "LEFT JOIN pg_class rc ON rc.oid = k.confrelid LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace "
	  "WHERE k.contype IN ('p', 'u', 'f') AND n.nspname IN (%s) ORDER BY 1, 2, 3",
	  on_constraint },
	{ "SELECT n.nspname, c.relname, i.relname, x.indisunique, " ATT_NAMES("x.indkey", "x.indrelid") " "
	  "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid" NSP_JOIN
	  "WHERE n.nspname IN (%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid "
	  "AND k.conrelid = x.indrelid AND k.contype IN ('p', 'u', 'x')) ORDER BY 1, 2, 3",
	  on_index },
	{ "SELECT n.nspname, c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid" NSP_JOIN
	  "WHERE NOT t.tgisinternal AND n.nspname IN (%s) ORDER BY 1, 2, 3",
	  catalog_add_trigger },
	{ "SELECT p.proname, p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
	  "WHERE n.nspname = '" DDL_PLATFORM_SCHEMA "' ORDER BY 1",
	  on_function },
	{ NULL, NULL },
};
/* clang-format on */
