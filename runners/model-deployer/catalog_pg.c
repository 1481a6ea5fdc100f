/* catalog_pg: the live PostgreSQL schema from pg_catalog, into models. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "catalog.h"
#include "ddl.h"
#include "exitcode.h"
#include "pgconn.h"

/* A query's rows, each through fn(ctx, res, row). */
typedef void (*row_fn)(struct catalog *cat, const PGresult *res, int row);

static int each_row(PGconn *conn, const char *sql, row_fn fn, struct catalog *cat)
{
	PGresult *res = pg_exec(conn, sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		int rc = pg_report_failure(res, "reading the catalog");
		PQclear(res);
		return rc ? rc : TR_EXIT_FAILED;
	}
	for (int i = 0; i < PQntuples(res); i++)
		fn(cat, res, i);
	PQclear(res);
	return TR_EXIT_OK;
}

static const char *val(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static char *dup_val(const PGresult *res, int row, int col)
{
	const char *v = val(res, row, col);
	return v ? xstrdup(v) : NULL;
}

static void split_list(const char *text, struct strlist *out)
{
	while (text && *text) {
		size_t n = strcspn(text, ",");
		char *item = xstrndup(text, n);
		strlist_push(out, item);
		free(item);
		text += n + (text[n] == ',');
	}
}

static struct table *table_of(struct catalog *cat, const PGresult *res, int row)
{
	return model_find(&cat->tables, PQgetvalue(res, row, 0), PQgetvalue(res, row, 1));
}

static void on_schema(struct catalog *cat, const PGresult *res, int row)
{
	strlist_push(&cat->schemas, PQgetvalue(res, row, 0));
}

static void on_table(struct catalog *cat, const PGresult *res, int row)
{
	struct table *t = model_add_table(&cat->tables);
	t->schema = xstrdup(PQgetvalue(res, row, 0));
	t->name = xstrdup(PQgetvalue(res, row, 1));
	t->comment = dup_val(res, row, 2);
}

static void on_column(struct catalog *cat, const PGresult *res, int row)
{
	struct table *t = table_of(cat, res, row);
	if (!t)
		return;
	struct column *c = table_add_column(t);
	c->name = xstrdup(PQgetvalue(res, row, 2));
	c->raw_type = xstrdup(PQgetvalue(res, row, 3));
	c->type = ptype_from_engine(ENGINE_POSTGRES, c->raw_type);
	c->nullable = strcmp(PQgetvalue(res, row, 4), "t") != 0;
	c->def.text = dup_val(res, row, 5);
	c->def.kind = c->def.text ? DEF_RAW : DEF_NONE;
	c->comment = dup_val(res, row, 6);
}

static const char *delete_action(char code)
{
	return code == 'r'   ? "RESTRICT"
	       : code == 'c' ? "CASCADE"
	       : code == 'n' ? "SET NULL"
	       : code == 'd' ? "SET DEFAULT"
	                     : "NO ACTION";
}

static void on_constraint(struct catalog *cat, const PGresult *res, int row)
{
	struct table *t = table_of(cat, res, row);
	char type = PQgetvalue(res, row, 3)[0];
	if (!t)
		return;
	if (type == 'p') {
		t->pk_name = xstrdup(PQgetvalue(res, row, 2));
		split_list(val(res, row, 4), &t->pk);
	} else if (type == 'u') {
		struct index *ix = table_add_index(t, true);
		ix->name = xstrdup(PQgetvalue(res, row, 2));
		split_list(val(res, row, 4), &ix->cols);
	} else {
		struct fkey *fk = table_add_fkey(t);
		fk->name = xstrdup(PQgetvalue(res, row, 2));
		split_list(val(res, row, 4), &fk->cols);
		fk->ref_schema = dup_val(res, row, 5);
		fk->ref_table = dup_val(res, row, 6);
		split_list(val(res, row, 7), &fk->ref_cols);
		fk->on_delete = xstrdup(delete_action(PQgetvalue(res, row, 8)[0]));
	}
}

static void on_index(struct catalog *cat, const PGresult *res, int row)
{
	struct table *t = table_of(cat, res, row);
	if (!t)
		return;
	struct index *ix = table_add_index(t, false);
	ix->name = xstrdup(PQgetvalue(res, row, 2));
	ix->unique = strcmp(PQgetvalue(res, row, 3), "t") == 0;
	split_list(val(res, row, 4), &ix->cols);
}

static void on_trigger(struct catalog *cat, const PGresult *res, int row)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s.%s.%s", PQgetvalue(res, row, 0), PQgetvalue(res, row, 1), PQgetvalue(res, row, 2));
	strlist_push(&cat->triggers, buf_str(&b));
	buf_free(&b);
}

static void on_function(struct catalog *cat, const PGresult *res, int row)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s=%s", PQgetvalue(res, row, 0), PQgetvalue(res, row, 1));
	strlist_push(&cat->functions, buf_str(&b));
	buf_free(&b);
}

#define NSP_JOIN " JOIN pg_namespace n ON n.oid = c.relnamespace "
/* The column names of an attnum array (conkey, indkey) of relation rel, in order. */
#define ATT_NAMES(arr, rel)                                                                                            \
	"(SELECT string_agg(a.attname, ',' ORDER BY u.o) FROM unnest(" arr ") WITH ORDINALITY u(n, o) "                \
	"JOIN pg_attribute a ON a.attrelid = " rel " AND a.attnum = u.n)"

static const struct catalog_query {
	const char *sql; /* %s: the schemas filter */
	row_fn fn;
} queries[] = {
	{ "SELECT nspname FROM pg_namespace", on_schema },
	{ "SELECT n.nspname, c.relname, obj_description(c.oid, 'pg_class') FROM pg_class c" NSP_JOIN
	  "WHERE c.relkind IN ('r', 'p') AND %s ORDER BY 1, 2",
	  on_table },
	{ "SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
	  "pg_get_expr(d.adbin, d.adrelid), col_description(c.oid, a.attnum) "
	  "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid" NSP_JOIN
	  "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
	  "WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND %s ORDER BY 1, 2, a.attnum",
	  on_column },
	{ "SELECT n.nspname, c.relname, k.conname, k.contype, " ATT_NAMES(
	          "k.conkey",
	          "k.conrelid") ", "
	                        "rn.nspname, rc.relname, " ATT_NAMES(
	                                "k.confkey",
	                                "k.confrelid") ", k.confdeltype "
	                                               "FROM pg_constraint k JOIN pg_class c ON c.oid = "
	                                               "k.conrelid" NSP_JOIN
	                                               "LEFT JOIN pg_class rc ON rc.oid = k.confrelid LEFT JOIN "
	                                               "pg_namespace rn ON rn.oid = rc.relnamespace "
	                                               "WHERE k.contype IN ('p', 'u', 'f') AND %s ORDER BY 1, 2, 3",
	  on_constraint },
	{ "SELECT n.nspname, c.relname, i.relname, x.indisunique, " ATT_NAMES(
	          "x.indkey",
	          "x.indrelid") " "
	                        "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = "
	                        "x.indrelid" NSP_JOIN "WHERE %s AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE "
	                        "k.conindid = x.indexrelid "
	                        "AND k.conrelid = x.indrelid AND k.contype IN ('p', 'u', 'x')) ORDER BY 1, 2, 3",
	  on_index },
	{ "SELECT n.nspname, c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid" NSP_JOIN
	  "WHERE NOT t.tgisinternal AND %s ORDER BY 1, 2, 3",
	  on_trigger },
	{ "SELECT p.proname, p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
	  "WHERE n.nspname = '" DDL_PLATFORM_SCHEMA "' ORDER BY 1",
	  on_function },
};

/* "n.nspname IN ('a', 'b')": the models' schemas are validated identifiers. */
static char *schema_filter(const struct model_set *want)
{
	struct strlist schemas = { 0 };
	struct buf b = BUF_INIT;
	model_schemas(want, &schemas);
	buf_puts(&b, "n.nspname IN (''");
	for (size_t i = 0; i < schemas.len; i++)
		buf_printf(&b, ", '%s'", schemas.items[i]);
	buf_putc(&b, ')');
	strlist_free(&schemas);
	return buf_detach(&b);
}

int catalog_pg_read(PGconn *conn, const struct model_set *want, struct catalog *out)
{
	char *filter = schema_filter(want);
	int rc = TR_EXIT_OK;
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < sizeof queries / sizeof *queries && rc == TR_EXIT_OK; i++) {
		struct buf sql = BUF_INIT;
		const char *hole = strstr(queries[i].sql, "%s");
		if (hole)
			buf_printf(&sql, "%.*s%s%s", (int)(hole - queries[i].sql), queries[i].sql, filter, hole + 2);
		else
			buf_puts(&sql, queries[i].sql);
		rc = each_row(conn, buf_str(&sql), queries[i].fn, out);
		buf_free(&sql);
	}
	free(filter);
	return rc;
}
