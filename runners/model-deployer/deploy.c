/* deploy: plan, apply and drift of one target. */
#include "deploy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "catalog.h"
#include "conn.h"
#include "ddl.h"
#include "exitcode.h"
#include "log.h"
#include "result.h"
#include "sqlconn.h"
#include "targetdb.h"

void deploy_empty_catalog(enum engine e, struct catalog *out)
{
	memset(out, 0, sizeof *out);
	strlist_push(&out->schemas, e == ENGINE_POSTGRES ? "public" : "dbo");
}

cJSON *deploy_describe(enum engine e, const struct plan *p)
{
	cJSON *list = cJSON_CreateArray();
	for (size_t i = 0; i < p->n; i++) {
		const struct change *ch = &p->items[i];
		char object[256];
		struct strlist stmts = { 0 };
		cJSON *c = cJSON_CreateObject(), *sql = cJSON_CreateArray();
		change_object(ch, object, sizeof object);
		cJSON_AddStringToObject(c, "kind", change_kind_name(ch->kind));
		cJSON_AddStringToObject(c, "object", object);
		cJSON_AddBoolToObject(c, "destructive", ch->destructive);
		if (ch->reason && (ch->destructive || ch->check != CHECK_NONE))
			cJSON_AddStringToObject(c, "reason", ch->reason);
		if (ch->note)
			cJSON_AddStringToObject(c, "note", ch->note);
		ddl_change(e, ch, &stmts);
		for (size_t k = 0; k < stmts.len; k++)
			cJSON_AddItemToArray(sql, cJSON_CreateString(stmts.items[k]));
		cJSON_AddItemToObject(c, "sql", sql);
		cJSON_AddItemToArray(list, c);
		strlist_free(&stmts);
	}
	return list;
}

/* "'', 'a', 'b'": the models' schemas are validated identifiers, safe to quote as they are. */
static char *schema_list(const struct model_set *want)
{
	struct strlist schemas = { 0 };
	struct buf b = BUF_INIT;
	model_schemas(want, &schemas);
	buf_puts(&b, "''");
	for (size_t i = 0; i < schemas.len; i++)
		buf_printf(&b, ", '%s'", schemas.items[i]);
	strlist_free(&schemas);
	return buf_detach(&b);
}

struct reading {
	const struct catalog_query *query;
	struct catalog *cat;
};

static void on_row(void *ctx, const char *const *cells, int ncells)
{
	const struct reading *r = ctx;
	(void)ncells; /* each query's handler knows its columns */
	r->query->on_row(r->cat, cells);
}

/* Run the engine's catalog queries (catalog.h) for the models' schemas. */
static int read_catalog(struct target_db *db, const struct model_set *want, struct catalog *out)
{
	const struct catalog_query *queries = db->e == ENGINE_POSTGRES ? catalog_pg_queries : catalog_tsql_queries;
	char *schemas = schema_list(want);
	int rc = TR_EXIT_OK;
	memset(out, 0, sizeof *out);
	for (const struct catalog_query *q = queries; q->sql && rc == TR_EXIT_OK; q++) {
		struct buf sql = BUF_INIT;
		const char *hole = strstr(q->sql, "%s");
		if (hole)
			buf_printf(&sql, "%.*s%s%s", (int)(hole - q->sql), q->sql, schemas, hole + 2);
		else
			buf_puts(&sql, q->sql);
		struct reading r = { q, out };
		rc = target_db_rows(db, buf_str(&sql), "reading the catalog", on_row, &r);
		buf_free(&sql);
	}
	free(schemas);
	return rc;
}

/* The data checks: a change whose check answers true becomes destructive. */
static int run_checks(struct target_db *db, struct plan *p)
{
	int rc = TR_EXIT_OK;
	for (size_t i = 0; i < p->n && rc == TR_EXIT_OK; i++) {
		char *q = ddl_check_query(db->e, &p->items[i]);
		if (q)
			rc = target_db_ask(db, q, &p->items[i].destructive);
		free(q);
	}
	return rc;
}

static size_t count_destructive(const struct plan *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n; i++)
		n += p->items[i].destructive;
	return n;
}

/* Refuse a plan with destructive changes: name the first, count the rest. */
static int refuse(const struct plan *p, cJSON *out)
{
	size_t n = count_destructive(p);
	const struct change *first = NULL;
	for (size_t i = 0; i < p->n && !first; i++)
		if (p->items[i].destructive)
			first = &p->items[i];
	char object[256];
	change_object(first, object, sizeof object);
	cJSON_AddStringToObject(out, "refused", "destructive changes need --allow-destructive");
	return result_fail(TR_EXIT_FAILED, "refused",
	                   "refused %zu destructive change%s, nothing was applied: %s %s (%s)%s; review them in "
	                   "the plan and rerun with --allow-destructive if they are intended",
	                   n, n == 1 ? "" : "s", change_kind_name(first->kind), object, first->reason,
	                   n > 1 ? " and more" : "");
}

/* Every statement of the plan, in order, in the open transaction, then COMMIT. */
static int apply_plan(struct target_db *db, const struct plan *p, cJSON *out)
{
	long applied = 0;
	int rc = TR_EXIT_OK;
	for (size_t i = 0; i < p->n && rc == TR_EXIT_OK; i++) {
		struct strlist stmts = { 0 };
		char object[256], where[320];
		change_object(&p->items[i], object, sizeof object);
		snprintf(where, sizeof where, "%s %s", change_kind_name(p->items[i].kind), object);
		ddl_change(db->e, &p->items[i], &stmts);
		for (size_t k = 0; k < stmts.len && rc == TR_EXIT_OK; k++, applied++)
			rc = target_db_exec(db, stmts.items[k], where);
		strlist_free(&stmts);
	}
	if (rc == TR_EXIT_OK)
		rc = target_db_commit(db);
	cJSON_AddNumberToObject(out, "statements_applied", rc == TR_EXIT_OK ? (double)applied : 0);
	return rc;
}

/* Read, diff, check, and (apply mode) run; everything in the one deploy transaction. */
static int deploy_open(struct target_db *db, const struct deploy *d, cJSON *out)
{
	struct catalog live = { 0 };
	struct plan p = { 0 };
	int rc = read_catalog(db, d->models, &live);
	if (rc) {
		catalog_free(&live);
		return rc;
	}
	diff_models(d->models, &live, db->e, &p);
	rc = run_checks(db, &p);
	if (!rc) {
		cJSON_AddItemToObject(out, "changes", deploy_describe(db->e, &p));
		cJSON_AddNumberToObject(out, "destructive", (double)count_destructive(&p));
	}
	if (!rc && d->mode == MODE_DRIFT && p.n)
		rc = result_fail(TR_EXIT_FAILED, "drift", "%zu difference%s between the models and the database", p.n,
		                 p.n == 1 ? "" : "s");
	else if (!rc && d->mode == MODE_APPLY && count_destructive(&p) && !d->allow_destructive)
		rc = refuse(&p, out);
	else if (!rc && d->mode == MODE_APPLY)
		rc = apply_plan(db, &p, out);
	plan_free(&p);
	catalog_free(&live);
	return rc;
}

static int engine_of(const char *id, enum engine *e)
{
	struct conn c;
	int rc = sql_load_conn(&c);
	if (rc)
		return rc;
	if (strcmp(c.conn_type, "postgres") == 0)
		*e = ENGINE_POSTGRES;
	else if (strcmp(c.conn_type, "mssql") == 0)
		*e = ENGINE_MSSQL;
	else
		rc = result_fail(TR_EXIT_USAGE, "connection",
		                 "target %s: the connection's type is '%s'; use a postgres "
		                 "or mssql connection",
		                 id, c.conn_type);
	conn_free(&c);
	return rc;
}

int deploy_target(const char *id, void *ctx, cJSON *out)
{
	const struct deploy *d = ctx;
	enum engine e = ENGINE_POSTGRES;
	sql_opts.conn_id = id;
	sql_opts.conn_file = NULL;
	int rc = engine_of(id, &e);
	if (rc)
		return rc;
	cJSON_AddStringToObject(out, "engine", engine_name(e));
	struct target_db db;
	rc = target_db_begin(&db, e);
	if (!rc)
		rc = deploy_open(&db, d, out);
	rc = target_db_close(&db, rc); /* without COMMIT the target is left unchanged */
	log_info("target", "%s: %s", id, exitcode_status(rc));
	return rc;
}
