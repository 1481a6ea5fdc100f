/* targetdb: a deploy target's connection, either engine. */
#include "targetdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "exitcode.h"
#include "pgconn.h"
#include "result.h"
#include "signals.h"

#define DEPLOY_LOCK_NAME "tinyrun.model-deployer"

/* --- PostgreSQL --- */

static int pg_run(PGconn *conn, const char *sql, const char *where, PGresult **keep)
{
	PGresult *res = pg_exec(conn, sql);
	ExecStatusType st = PQresultStatus(res);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		if (keep)
			*keep = res;
		else
			PQclear(res);
		return TR_EXIT_OK;
	}
	int rc = pg_report_failure(res, where);
	PQclear(res);
	return rc ? rc : TR_EXIT_FAILED;
}

static int pg_rows(PGconn *conn, const char *sql, const char *where, target_row_fn fn, void *ctx)
{
	PGresult *res = NULL;
	int rc = pg_run(conn, sql, where, &res);
	if (rc)
		return rc;
	int ncols = PQnfields(res);
	const char **cells = xmalloc((size_t)(ncols ? ncols : 1) * sizeof *cells);
	for (int i = 0; i < PQntuples(res); i++) {
		for (int k = 0; k < ncols; k++)
			cells[k] = PQgetisnull(res, i, k) ? NULL : PQgetvalue(res, i, k);
		fn(ctx, cells, ncols);
	}
	free(cells);
	PQclear(res);
	return TR_EXIT_OK;
}

/* --- SQL Server --- */

static int ms_exec(struct mssql_session *s, const char *sql, const char *where)
{
	int rc = mssql_exec(s, sql, NULL);
	return rc ? mssql_report_failure(s, where) : TR_EXIT_OK;
}

/* Column k of the current row as text into b; false for NULL. Character data is already UTF-8
 * (the session's client charset); everything else goes through db-lib's conversion. */
static bool ms_cell(DBPROCESS *db, int k, struct buf *b)
{
	BYTE *data = dbdata(db, k);
	DBINT len = dbdatlen(db, k);
	int type = dbcoltype(db, k);
	buf_reset(b);
	if (!data)
		return false;
	if (type == SYBCHAR || type == SYBVARCHAR || type == SYBTEXT) {
		buf_append(b, (const char *)data, (size_t)len);
	} else {
		char text[256];
		DBINT n = dbconvert(db, type, data, len, SYBCHAR, (BYTE *)text, sizeof text - 1);
		buf_append(b, text, n > 0 ? (size_t)n : 0);
	}
	return true;
}

static int ms_rows(struct mssql_session *s, const char *sql, const char *where, target_row_fn fn, void *ctx)
{
	RETCODE rc = mssql_send(s, sql, strlen(sql));
	while (rc != FAIL && (rc = mssql_results(s)) == SUCCEED) {
		int ncols = dbnumcols(s->db);
		struct buf *vals = xmalloc((size_t)(ncols ? ncols : 1) * sizeof *vals);
		for (int k = 0; k < ncols; k++)
			vals[k] = (struct buf)BUF_INIT;
		const char **cells = xmalloc((size_t)(ncols ? ncols : 1) * sizeof *cells);
		while ((rc = dbnextrow(s->db)) == REG_ROW) {
			for (int k = 0; k < ncols; k++)
				cells[k] = ms_cell(s->db, k + 1, &vals[k]) ? buf_str(&vals[k]) : NULL;
			fn(ctx, cells, ncols);
		}
		for (int k = 0; k < ncols; k++)
			buf_free(&vals[k]);
		free(vals);
		free(cells);
		if (rc == FAIL)
			break;
	}
	return s->failed || s->dead || s->stopped || s->timed_out || rc == FAIL ? mssql_report_failure(s, where)
	                                                                        : TR_EXIT_OK;
}

/* sp_getapplock answers with its return status, not an error: below 0 is no lock. */
static int ms_take_deploy_lock(struct mssql_session *s)
{
	struct buf sql = BUF_INIT;
	buf_printf(&sql,
	           "EXEC sp_getapplock @Resource = N'" DEPLOY_LOCK_NAME "', @LockMode = N'Exclusive', "
	           "@LockOwner = N'Transaction', @LockTimeout = %ld",
	           sql_opts.lock_timeout_ms > 0 ? sql_opts.lock_timeout_ms : -1);
	int rc = ms_exec(s, buf_str(&sql), "waiting for another deployer of this database");
	buf_free(&sql);
	if (rc == TR_EXIT_OK && dbhasretstat(s->db) && dbretstatus(s->db) < 0)
		rc = result_fail(TR_EXIT_TEMPFAIL, "lock_timeout",
		                 "another deployer of this database held its lock for --lock-timeout %ld ms",
		                 sql_opts.lock_timeout_ms);
	return rc;
}

/* --- either --- */

int target_db_begin(struct target_db *db, enum engine e)
{
	memset(db, 0, sizeof *db);
	db->e = e;
	if (e == ENGINE_POSTGRES) {
		int rc = pg_connect(&db->pg);
		if (!rc)
			rc = pg_run(db->pg, "BEGIN", "BEGIN", NULL);
		if (!rc)
			rc = pg_run(db->pg, "SELECT pg_advisory_xact_lock(hashtext('" DEPLOY_LOCK_NAME "'))",
			            "waiting for another deployer of this database", NULL);
		return rc;
	}
	int rc = mssql_connect(&db->ms);
	if (!rc)
		rc = ms_exec(&db->ms, "SET XACT_ABORT ON", "SET XACT_ABORT ON");
	if (!rc)
		rc = ms_exec(&db->ms, "BEGIN TRANSACTION", "BEGIN TRANSACTION");
	db->ms.in_transaction = rc == TR_EXIT_OK;
	return rc ? rc : ms_take_deploy_lock(&db->ms);
}

int target_db_exec(struct target_db *db, const char *sql, const char *where)
{
	return db->e == ENGINE_POSTGRES ? pg_run(db->pg, sql, where, NULL) : ms_exec(&db->ms, sql, where);
}

int target_db_rows(struct target_db *db, const char *sql, const char *where, target_row_fn fn, void *ctx)
{
	return db->e == ENGINE_POSTGRES ? pg_rows(db->pg, sql, where, fn, ctx) : ms_rows(&db->ms, sql, where, fn, ctx);
}

static void on_answer(void *ctx, const char *const *cells, int ncells)
{
	bool *yes = ctx;
	*yes = ncells > 0 && cells[0] && (strcmp(cells[0], "t") == 0 || strcmp(cells[0], "1") == 0);
}

int target_db_ask(struct target_db *db, const char *query, bool *yes)
{
	*yes = false;
	return target_db_rows(db, query, "checking the data", on_answer, yes);
}

int target_db_commit(struct target_db *db)
{
	int rc = target_db_exec(db, db->e == ENGINE_POSTGRES ? "COMMIT" : "COMMIT TRANSACTION", "COMMIT");
	if (!rc)
		db->ms.in_transaction = false;
	return rc;
}

int target_db_close(struct target_db *db, int rc)
{
	if (db->e == ENGINE_POSTGRES) {
		PQfinish(db->pg); /* without COMMIT the transaction is rolled back */
		db->pg = NULL;
		return rc;
	}
	if (db->ms.stopped || (sig_caught() && db->ms.db))
		return mssql_stop(&db->ms);
	mssql_close(&db->ms); /* the server rolls back what was not committed */
	return rc;
}
