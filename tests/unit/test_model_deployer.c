/* Unit tests of model-deployer's models (modelload.h), mixins, type map and diff (diff.h, ddl.h). */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "catalog.h"
#include "ddl.h"
#include "diff.h"
#include "mixins.h"
#include "modelload.h"
#include "tt.h"

static const char *const customer_yaml = "schema: silver\n"
                                         "table: customer\n"
                                         "comment: customers of the unit\n"
                                         "mixins: [reference]\n"
                                         "columns:\n"
                                         "  - {name: customer_id, type: bigint}\n"
                                         "  - {name: email, type: varchar(200), nullable: false, comment: login}\n"
                                         "  - {name: score, type: 'decimal(5,2)', default: 0}\n"
                                         "  - {name: country, type: varchar(2), default: 'NL'}\n"
                                         "primary_key: [customer_id]\n"
                                         "unique:\n"
                                         "  - columns: [email]\n"
                                         "indexes:\n"
                                         "  - columns: [country]\n";

/* Load text as file "m.yml" and validate; the errors joined by "|" into errs. */
static size_t load(const char *text, struct model_set *m, char **errs)
{
	struct strlist errors = { 0 };
	size_t n = model_load_text("m.yml", text, strlen(text), m, &errors);
	if (n == 0)
		n = model_validate(m, &errors);
	*errs = strlist_join(&errors, "|");
	strlist_free(&errors);
	return n;
}

/* The first error of text (must fail). */
static char *first_error(const char *text)
{
	struct model_set m = { 0 };
	char *errs = NULL;
	CHECK(load(text, &m, &errs) > 0);
	model_free(&m);
	return errs;
}

/* The statements of diffing m against an empty database of e, joined by "\n". */
static char *render(const struct model_set *m, enum engine e)
{
	struct catalog empty = { 0 };
	struct plan p;
	struct strlist stmts = { 0 };
	strlist_push(&empty.schemas, "public");
	diff_models(m, &empty, e, &p);
	for (size_t i = 0; i < p.n; i++)
		ddl_change(e, &p.items[i], &stmts);
	char *out = strlist_join(&stmts, "\n");
	strlist_free(&stmts);
	plan_free(&p);
	catalog_free(&empty);
	return out;
}

static void loads_a_model_with_its_mixins(void)
{
	struct model_set m = { 0 };
	char *errs = NULL;
	CHECK_INT(load(customer_yaml, &m, &errs), 0);
	CHECK_STR(errs, "");
	CHECK_INT(m.ntables, 2);
	const struct table *t = model_find(&m, "silver", "customer");
	CHECK(t != NULL);
	CHECK_INT(t->ncols, 10); /* 4 own, 2 transactional, 4 reference */
	CHECK_STR(t->cols[4].name, "created_at");
	CHECK_STR(t->cols[4].mixin, "transactional");
	CHECK_STR(t->cols[9].name, "valid_to");
	CHECK(!t->cols[0].nullable); /* primary key */
	CHECK_STR(t->pk_name, "customer_pkey");
	CHECK_STR(t->uniques[0].name, "customer_email_key");
	CHECK_STR(t->indexes[0].name, "customer_country_idx");
	CHECK_INT(t->cols[3].def.kind, DEF_STRING);
	const struct table *h = model_find(&m, "silver", "customer_history");
	CHECK(h != NULL && h->history && h->ncols == 10 && h->pk.len == 0);
	model_free(&m);
	free(errs);
}

static void several_models_in_one_file(void)
{
	struct model_set m = { 0 };
	char *errs = NULL;
	CHECK_INT(load("tables:\n  - {schema: a, table: x, columns: [{name: id, type: int}]}\n"
	               "  - {schema: a, table: y, columns: [{name: id, type: int}]}\n",
	               &m, &errs),
	          0);
	CHECK_INT(m.ntables, 2);
	model_free(&m);
	free(errs);
}

static void errors_name_file_line_model_and_field(void)
{
	char *e = first_error("schema: s\ntable: t\ncolumns:\n  - name: a\n    type: integer\n");
	CHECK_CONTAINS(e, "m.yml:5: s.t: columns[0].type: unknown type 'integer'");
	free(e);
	e = first_error("schema: s\ntable: t\ncolumns:\n  - {name: a, type: int}\n  - {name: a, type: text}\n");
	CHECK_CONTAINS(e, "m.yml:5: s.t: columns: duplicate column 'a' (first at line 4)");
	free(e);
	e = first_error("schema: s\ntable: t\nmixins: [silver]\ncolumns:\n  - {name: a, type: int}\n");
	CHECK_CONTAINS(e, "m.yml:3: s.t: mixins: unknown mixin 'silver'");
	free(e);
	e = first_error("schema: s\ntable: t\ncolumns:\n  - {name: a, type: int}\nforeign_keys:\n"
	                "  - {columns: [a], references: {table: nope, columns: [id]}}\n");
	CHECK_CONTAINS(e, "m.yml:6: s.t: foreign_keys: references s.nope, which no model defines");
	free(e);
	e = first_error("schema: s\ntable: t\ncolumns:\n  - {name: a, type: int\n");
	CHECK_CONTAINS(e, "m.yml:5: -: -: malformed YAML");
	free(e);
	e = first_error("");
	CHECK_CONTAINS(e, "m.yml:1: -: -: the file is empty");
	free(e);
	e = first_error("schema: s\ntable: t\nmixins: [transactional]\nprimary_key: [id]\ncolumns:\n"
	                "  - {name: id, type: int}\n  - {name: created_at, type: timestamptz}\n");
	CHECK_CONTAINS(e, "m.yml:7: s.t: columns: column 'created_at' is also added by mixin transactional");
	free(e);
	e = first_error("schema: s\ntable: t\ncolums: []\n");
	CHECK_CONTAINS(e, "m.yml:3: s.t: table: unknown key 'colums'");
	free(e);
	e = first_error("schema: s\ntable: t\nmixins: [reference]\ncolumns:\n  - {name: a, type: int}\n");
	CHECK_CONTAINS(e, "s.t: primary_key: mixin reference needs a primary key");
	free(e);
	e = first_error("schema: s\ntable: t\ncolumns:\n  - {name: a, type: int, default: soon}\n");
	CHECK_CONTAINS(e, "columns[0].default: unknown default 'soon'");
	free(e);
}

static void type_map_round_trips(void)
{
	static const char *const types[] = { "int",         "bigint", "smallint", "decimal(12,2)", "text",
		                             "varchar(30)", "bool",   "date",     "timestamp",     "timestamptz",
		                             "uuid",        "json",   "bytes" };
	char err[200], back[64], pg[64];
	for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
		struct mtype t;
		CHECK_INT(ptype_parse(types[i], &t, err, sizeof err), 0);
		ptype_format(&t, back, sizeof back);
		CHECK_STR(back, types[i]);
		ptype_engine(ENGINE_POSTGRES, &t, pg, sizeof pg);
		struct mtype again = ptype_from_engine(ENGINE_POSTGRES, pg);
		CHECK(again.kind == t.kind && again.p == t.p && again.s == t.s);
	}
	struct mtype t;
	ptype_parse("decimal(12,2)", &t, err, sizeof err);
	ptype_engine(ENGINE_MSSQL, &t, pg, sizeof pg);
	CHECK_STR(pg, "decimal(12,2)");
	CHECK_INT(ptype_parse("varchar", &t, err, sizeof err), -1);
	CHECK_CONTAINS(err, "varchar takes a length");
	CHECK_INT(ptype_parse("decimal(2,5)", &t, err, sizeof err), -1);
}

static void widening_is_additive_narrowing_is_not(void)
{
	struct mtype v10 = { PT_VARCHAR, 10, 0 }, v20 = { PT_VARCHAR, 20, 0 }, txt = { PT_TEXT, 0, 0 };
	struct mtype i = { PT_INT, 0, 0 }, b = { PT_BIGINT, 0, 0 };
	struct mtype d102 = { PT_DECIMAL, 10, 2 }, d122 = { PT_DECIMAL, 12, 2 }, d123 = { PT_DECIMAL, 12, 4 };
	CHECK(ptype_widens(&v10, &v20) && !ptype_widens(&v20, &v10));
	CHECK(ptype_widens(&v10, &txt) && !ptype_widens(&txt, &v10));
	CHECK(ptype_widens(&i, &b) && !ptype_widens(&b, &i));
	CHECK(ptype_widens(&d102, &d122) && !ptype_widens(&d122, &d102) && !ptype_widens(&d122, &d123));
	CHECK(!ptype_widens(&i, &txt));
}

/* Diff models want against the catalog of models have; the changes as "kind object" lines. */
static char *diff_text(const char *have, const char *want, enum engine e, struct plan *p, struct model_set *keep)
{
	struct model_set h = { 0 };
	struct catalog live;
	struct buf out = BUF_INIT;
	char *errs = NULL, object[256];
	CHECK_INT(load(have, &h, &errs), 0);
	free(errs);
	CHECK_INT(load(want, keep, &errs), 0);
	free(errs);
	diff_catalog_of(&h, e, &live);
	diff_models(keep, &live, e, p);
	for (size_t i = 0; i < p->n; i++) {
		change_object(&p->items[i], object, sizeof object);
		buf_printf(&out, "%s%s %s%s", i ? "|" : "", change_kind_name(p->items[i].kind), object,
		           p->items[i].destructive ? " !"
		           : p->items[i].check     ? " ?"
		                                   : "");
	}
	catalog_free(&live);
	model_free(&h);
	return out.data ? buf_detach(&out) : xstrdup("");
}

static void a_deployed_model_has_no_diff(void)
{
	for (int e = 0; e < ENGINE_COUNT; e++) {
		struct plan p;
		struct model_set m = { 0 };
		char *d = diff_text(customer_yaml, customer_yaml, (enum engine)e, &p, &m);
		CHECK_STR(d, "");
		free(d);
		plan_free(&p);
		model_free(&m);
	}
}

/* Feed rows, as the catalog query number q would return them, to the T-SQL reader. */
static void tsql_rows(struct catalog *cat, int q, const char *const rows[][11], size_t n)
{
	for (size_t i = 0; i < n; i++)
		catalog_tsql_queries[q].on_row(cat, rows[i]);
}

/* The comment of column name in m's first table (mixin columns carry the mixin's text). */
static const char *comment_of(const struct model_set *m, const char *name)
{
	return table_find_column(&m->tables[0], name)->comment;
}

/* customer_yaml deployed on SQL Server, read back through sys.* as SQL Server answers: lengths in
 * bytes, defaults in parentheses, period columns datetime2(7), the history table temporal. */
static void sql_server_catalog_reads_back_as_the_models(void)
{
	struct model_set m = { 0 };
	char *errs = NULL;
	CHECK_INT(load(customer_yaml, &m, &errs), 0);
	free(errs);
	struct catalog live = { 0 };
	const char *const schemas[][11] = { { "dbo" }, { "silver" } };
	const char *const tables[][11] = { { "silver", "customer", "customers of the unit", "2" },
		                           { "silver", "customer_history", NULL, "1" } };
#define COL(name, type, len, prec, scale, nullable, gen, def)                                                          \
	{                                                                                                              \
		"silver", "customer", name, type, len, prec, scale, nullable, gen, def, comment_of(&m, name)           \
	}
	const char *const cols[][11] = {
		COL("customer_id", "bigint", "8", "19", "0", "0", "0", NULL),
		COL("email", "nvarchar", "400", "0", "0", "0", "0", NULL),
		COL("score", "decimal", "5", "5", "2", "1", "0", "((0))"),
		COL("country", "nvarchar", "4", "0", "0", "1", "0", "(N'NL')"),
		COL("created_at", "datetimeoffset", "10", "34", "6", "0", "0", "(sysdatetimeoffset())"),
		COL("updated_at", "datetimeoffset", "10", "34", "6", "0", "0", "(sysdatetimeoffset())"),
		COL("created_by", "nvarchar", "256", "0", "0", "0", "0", "(suser_sname())"),
		COL("updated_by", "nvarchar", "256", "0", "0", "0", "0", "(suser_sname())"),
		COL("valid_from", "datetime2", "8", "27", "7", "0", "1", NULL),
		COL("valid_to", "datetime2", "8", "27", "7", "0", "2", NULL),
	};
#undef COL
	const char *const keys[][11] = { { "silver", "customer", "customer_pkey", "1", "0", "1", "customer_id" },
		                         { "silver", "customer", "customer_email_key", "0", "1", "1", "email" },
		                         { "silver", "customer", "customer_country_idx", "0", "0", "0", "country" } };
	const char *const triggers[][11] = { { "silver", "customer", "customer_touch" } };
	tsql_rows(&live, 0, schemas, 2);
	tsql_rows(&live, 1, tables, 2);
	tsql_rows(&live, 2, cols, sizeof cols / sizeof *cols);
	tsql_rows(&live, 3, keys, 3);
	tsql_rows(&live, 5, triggers, 1);
	CHECK_STR(live.tables.tables[0].cols[1].raw_type, "nvarchar(200)");
	CHECK_STR(live.tables.tables[0].cols[2].raw_type, "decimal(5,2)");
	CHECK(live.tables.tables[1].history);

	struct plan p;
	diff_models(&m, &live, ENGINE_MSSQL, &p);
	CHECK_INT(p.n, 0);
	plan_free(&p);
	free(live.tables.tables[0].cols[1].raw_type); /* live narrower than the models: widen */
	live.tables.tables[0].cols[1].raw_type = xstrdup("nvarchar(100)");
	diff_models(&m, &live, ENGINE_MSSQL, &p);
	CHECK_INT(p.n, 1);
	CHECK_INT(p.items[0].kind, CH_ALTER_TYPE);
	CHECK(!p.items[0].destructive);
	plan_free(&p);
	catalog_free(&live);
	model_free(&m);
}

static const char *const v1 = "tables:\n"
                              "  - schema: s\n    table: a\n    primary_key: [id]\n    columns:\n"
                              "      - {name: id, type: int}\n      - {name: name, type: varchar(10)}\n"
                              "  - schema: s\n    table: b\n    primary_key: [id]\n    columns:\n"
                              "      - {name: id, type: int}\n      - {name: a_id, type: int}\n";

static void additive_changes_in_order(void)
{
	const char *v2 = "tables:\n"
	                 "  - schema: s\n    table: a\n    primary_key: [id]\n    columns:\n"
	                 "      - {name: id, type: int}\n      - {name: name, type: varchar(20)}\n"
	                 "      - {name: note, type: text}\n"
	                 "  - schema: s\n    table: b\n    primary_key: [id]\n    columns:\n"
	                 "      - {name: id, type: int}\n      - {name: a_id, type: int}\n"
	                 "    indexes: [{columns: [a_id]}]\n"
	                 "    foreign_keys: [{columns: [a_id], references: {table: a, columns: [id]}}]\n"
	                 "  - schema: t\n    table: c\n    columns: [{name: id, type: bigint}]\n";
	struct plan p;
	struct model_set m = { 0 };
	char *d = diff_text(v1, v2, ENGINE_POSTGRES, &p, &m);
	CHECK_STR(d, "create_schema t|create_table t.c|add_column s.a.note|alter_type s.a.name|"
	             "add_index s.b.b_a_id_idx|add_foreign_key s.b.b_a_id_fkey");
	struct strlist stmts = { 0 };
	for (size_t i = 0; i < p.n; i++)
		ddl_change(ENGINE_POSTGRES, &p.items[i], &stmts);
	char *sql = strlist_join(&stmts, "\n");
	CHECK_CONTAINS(sql, "ALTER TABLE \"s\".\"a\" ADD COLUMN \"note\" text");
	CHECK_CONTAINS(sql, "ALTER TABLE \"s\".\"a\" ALTER COLUMN \"name\" TYPE character varying(20)");
	CHECK_CONTAINS(sql, "CREATE INDEX \"b_a_id_idx\" ON \"s\".\"b\" (\"a_id\")");
	CHECK_CONTAINS(sql, "ADD CONSTRAINT \"b_a_id_fkey\" FOREIGN KEY (\"a_id\") REFERENCES \"s\".\"a\" (\"id\")");
	free(sql);
	strlist_free(&stmts);
	free(d);
	plan_free(&p);
	model_free(&m);
}

static void destructive_changes_are_marked(void)
{
	const char *v2 = "tables:\n"
	                 "  - schema: s\n    table: a\n    primary_key: [id]\n    columns:\n"
	                 "      - {name: id, type: int}\n      - {name: name, type: varchar(5), nullable: false}\n"
	                 "      - {name: must, type: int, nullable: false}\n";
	struct plan p;
	struct model_set m = { 0 };
	char *d = diff_text(v1, v2, ENGINE_POSTGRES, &p, &m);
	CHECK_STR(d, "add_column s.a.must ?|alter_type s.a.name !|set_not_null s.a.name ?|drop_table s.b !");
	free(d);
	plan_free(&p);
	model_free(&m);
}

static void renders_postgres_and_tsql(void)
{
	struct model_set m = { 0 };
	char *errs = NULL;
	CHECK_INT(load(customer_yaml, &m, &errs), 0);
	free(errs);
	char *pg = render(&m, ENGINE_POSTGRES), *ts = render(&m, ENGINE_MSSQL);
	CHECK_CONTAINS(pg, "CREATE SCHEMA \"silver\"");
	CHECK_CONTAINS(pg, "\"created_by\" character varying(128) DEFAULT CURRENT_USER NOT NULL");
	CHECK_CONTAINS(pg, "\"country\" character varying(2) DEFAULT 'NL'");
	CHECK_CONTAINS(pg, "CONSTRAINT \"customer_pkey\" PRIMARY KEY (\"customer_id\")");
	CHECK_CONTAINS(pg, "CREATE TABLE \"silver\".\"customer_history\"");
	CHECK_CONTAINS(pg, "BEFORE UPDATE ON \"silver\".\"customer\" FOR EACH ROW EXECUTE FUNCTION "
	                   "\"tinyrun\".\"touch_reference\"()");
	CHECK_CONTAINS(pg, "AFTER UPDATE OR DELETE ON \"silver\".\"customer\"");
	CHECK_CONTAINS(pg, "COMMENT ON COLUMN \"silver\".\"customer\".\"email\" IS 'login'");
	CHECK_CONTAINS(ts, "[valid_from] datetime2(7) GENERATED ALWAYS AS ROW START NOT NULL");
	CHECK_CONTAINS(ts, "PERIOD FOR SYSTEM_TIME ([valid_from], [valid_to])");
	CHECK_CONTAINS(ts, "WITH (SYSTEM_VERSIONING = ON (HISTORY_TABLE = [silver].[customer_history]))");
	CHECK_CONTAINS(ts, "[country] nvarchar(2) NULL CONSTRAINT [df_customer_country] DEFAULT N'NL'");
	CHECK_NOT_CONTAINS(ts, "CREATE TABLE [silver].[customer_history]");
	free(pg);
	free(ts);
	model_free(&m);
}

TT_MAIN(TT_CASE(loads_a_model_with_its_mixins), TT_CASE(several_models_in_one_file),
        TT_CASE(errors_name_file_line_model_and_field), TT_CASE(type_map_round_trips),
        TT_CASE(widening_is_additive_narrowing_is_not), TT_CASE(a_deployed_model_has_no_diff),
        TT_CASE(sql_server_catalog_reads_back_as_the_models), TT_CASE(additive_changes_in_order),
        TT_CASE(destructive_changes_are_marked), TT_CASE(renders_postgres_and_tsql))
