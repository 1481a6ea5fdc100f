/* pgconn: what is libpq-specific in connecting to PostgreSQL and waiting on it; the connection
 * flags (SQL_CONN_OPTS), loading, Kerberos and retries are common/sqlconn's, the result shape
 * common/sqlresult's.
 *
 * The connection comes from an Airflow connection (conn.h): the schema is the dbname and extras
 * that are libpq keywords pass through (sslmode, sslrootcert, gssencmode, krbsrvname, ...).
 * TLS verify-ca/verify-full use the image's CA bundle unless sslrootcert says otherwise.
 * Every wait (connect, results, COPY) polls the socket and the signal pipe together, so a
 * SIGTERM cancels the running statement on the server at once. */
#ifndef TR_PGCONN_H
#define TR_PGCONN_H

#include <libpq-fe.h>

#include "sqlconn.h"

/* Connect with retries. Returns TR_EXIT_OK with *out set, or the exit code (already reported). */
int pg_connect(PGconn **out);

/* The next result of the running query, waiting on the socket and the signal pipe. When a stop
 * signal arrives the statement is cancelled on the server; the results then end with an error. */
PGresult *pg_next_result(PGconn *conn);

/* Run sql (one or more statements, no COPY) and return its first failed or last result, waiting
 * like pg_next_result. NULL when it could not be sent or no answer came before a stop's deadline. */
PGresult *pg_exec(PGconn *conn, const char *sql);
/* Of the results so far (last) and the next one (res), the one that speaks for the statement: the
 * first failure, else the latest. Clears the other. */
PGresult *pg_keep_result(PGresult *last, PGresult *res);

/* Wait until the socket is readable (for_write: readable or writable). On a stop signal the
 * running statement is cancelled (within 2 s) and the wait goes on until 3 s after the signal.
 * Returns 0 to go on, or -1 when that deadline passed (or the wait failed). */
int pg_wait_socket(PGconn *conn, int for_write);

/* Report a failed result (log line with SQLSTATE, position, the result's "error") and return its
 * exit code, or 128+N when the failure is our own cancel after a stop signal. */
int pg_report_failure(const PGresult *res, const char *where);

#endif
