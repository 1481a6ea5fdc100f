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
#include "pgconn.h"
#include "result.h"
#include "sqlconn.h"

/* Deployers of the same database take turns (a second one then finds nothing to do). */
#define PG_DEPLOY_LOCK "SELECT pg_advisory_xact_lock(hashtext('tinyrun.model-deployer'))"

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

/* Run sql and expect success. */
static int pg_ok(PGconn *conn, const char *sql, const char *where)
{
	PGresult *res = pg_exec(conn, sql);
	ExecStatusType st = PQresultStatus(res);
	int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? TR_EXIT_OK : pg_report_failure(res, where);
	PQclear(res);
	return rc;
}

/* The data checks: a change whose check answers true becomes destructive. */
static int pg_checks(PGconn *conn, struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		char *q = ddl_check_query(ENGINE_POSTGRES, &p->items[i]);
		if (!q)
			continue;
		PGresult *res = pg_exec(conn, q);
		free(q);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			int rc = pg_report_failure(res, "checking the data");
			PQclear(res);
			return rc ? rc : TR_EXIT_FAILED;
		}
		p->items[i].destructive = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		PQclear(res);
	}
	return TR_EXIT_OK;
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

/* Every statement of the plan, in order, in the open transaction. */
static int pg_apply(PGconn *conn, const struct plan *p, cJSON *out)
{
	long applied = 0;
	int rc = TR_EXIT_OK;
	for (size_t i = 0; i < p->n && rc == TR_EXIT_OK; i++) {
		struct strlist stmts = { 0 };
		char object[256], where[320];
		change_object(&p->items[i], object, sizeof object);
		snprintf(where, sizeof where, "%s %s", change_kind_name(p->items[i].kind), object);
		ddl_change(ENGINE_POSTGRES, &p->items[i], &stmts);
		for (size_t k = 0; k < stmts.len && rc == TR_EXIT_OK; k++, applied++)
			rc = pg_ok(conn, stmts.items[k], where);
		strlist_free(&stmts);
	}
	if (rc == TR_EXIT_OK)
		rc = pg_ok(conn, "COMMIT", "COMMIT");
	cJSON_AddNumberToObject(out, "statements_applied", rc == TR_EXIT_OK ? (double)applied : 0);
	return rc;
}

/* Read, diff, check, and (apply mode) run; everything in one transaction. */
static int pg_deploy(PGconn *conn, const struct deploy *d, cJSON *out)
{
	struct catalog live = { 0 };
	struct plan p = { 0 };
	int rc = pg_ok(conn, "BEGIN", "BEGIN");
	if (!rc)
		rc = pg_ok(conn, PG_DEPLOY_LOCK, "waiting for another deployer of this database");
	if (!rc)
		rc = catalog_pg_read(conn, d->models, &live);
	if (rc) {
		catalog_free(&live);
		return rc;
	}
	diff_models(d->models, &live, ENGINE_POSTGRES, &p);
	rc = pg_checks(conn, &p);
	if (!rc) {
		cJSON_AddItemToObject(out, "changes", deploy_describe(ENGINE_POSTGRES, &p));
		cJSON_AddNumberToObject(out, "destructive", (double)count_destructive(&p));
	}
	if (!rc && d->mode == MODE_DRIFT && p.n)
		rc = result_fail(TR_EXIT_FAILED, "drift", "%zu difference%s between the models and the database", p.n,
		                 p.n == 1 ? "" : "s");
	else if (!rc && d->mode == MODE_APPLY && count_destructive(&p) && !d->allow_destructive)
		rc = refuse(&p, out);
	else if (!rc && d->mode == MODE_APPLY)
		rc = pg_apply(conn, &p, out);
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
	if (e == ENGINE_MSSQL)
		return result_fail(TR_EXIT_USAGE, "connection",
		                   "target %s: SQL Server targets can be rendered "
		                   "(render --engine mssql) but this build cannot connect to them",
		                   id);
	PGconn *conn = NULL;
	rc = pg_connect(&conn);
	if (!rc)
		rc = pg_deploy(conn, d, out);
	PQfinish(conn); /* without COMMIT the transaction is rolled back: the target is unchanged */
	log_info("target", "%s: %s", id, exitcode_status(rc));
	return rc;
}
