/* targetdb: one deploy target's database connection, PostgreSQL (libpq) or SQL Server (FreeTDS
 * db-lib), behind the few operations a deploy needs: open the deploy transaction (with the
 * deployers' lock), run a statement, ask a yes/no question, read rows as text, commit, close.
 * Whatever is engine-specific in running SQL lives here, so deploy.c reads as one flow. */
#ifndef MD_TARGETDB_H
#define MD_TARGETDB_H

#include <stdbool.h>

#include <libpq-fe.h>

#include "ptype.h"
#include "tdsconn.h"

struct target_db {
	enum engine e;
	PGconn *pg;
	struct mssql_session ms;
};

/* One row of a query, every value as text (NULL for SQL NULL). */
typedef void (*target_row_fn)(void *ctx, const char *const *cells, int ncells);

/* Connect to the connection sql_opts.conn_id names (engine e), open a transaction and take the
 * deployers' lock: deployers of one database take turns, so a second one finds nothing to do.
 * Returns TR_EXIT_OK, or the exit code (reported). */
int target_db_begin(struct target_db *db, enum engine e);

/* Run one statement. where names it in an error ("add_column bronze.orders.note"). */
int target_db_exec(struct target_db *db, const char *sql, const char *where);

/* Run a query of one row and one column; *yes is whether it answered true (t, 1). */
int target_db_ask(struct target_db *db, const char *query, bool *yes);

/* Run a query and hand each row to fn. where names it in an error. */
int target_db_rows(struct target_db *db, const char *sql, const char *where, target_row_fn fn, void *ctx);

int target_db_commit(struct target_db *db);

/* Close; a transaction not committed is rolled back. After a stop signal returns 128+N (SQL
 * Server: the batch is cancelled first), else rc. */
int target_db_close(struct target_db *db, int rc);

#endif
