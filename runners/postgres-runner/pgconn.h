/* pgconn: connecting to PostgreSQL the task contract's way, and waiting on the server without
 * ever missing a stop signal.
 *
 * The connection comes from an Airflow connection (conn.h): the schema is the dbname and extras
 * that are libpq keywords pass through (sslmode, sslrootcert, gssencmode, krbsrvname, ...).
 * Kerberos: a keytab login into a MEMORY: cache, or the ticket cache with a preflight check.
 * TLS verify-ca/verify-full use the image's CA bundle unless sslrootcert says otherwise.
 * Every wait (connect, results, COPY) polls the socket and the signal pipe together, so a
 * SIGTERM cancels the running statement on the server at once. */
#ifndef PG_PGCONN_H
#define PG_PGCONN_H

#include <libpq-fe.h>

#include "cli.h"

struct pg_opts {
	const char *conn_id;
	const char *conn_file;
	const char *password_file;
	const char *keytab;
	const char *principal;
	long connect_timeout_ms;
	long statement_timeout_ms;
	long lock_timeout_ms;
	long retries;
};

extern struct pg_opts pg_opts;

/* The connection flags every subcommand takes. */
/* clang-format off */
#define PG_CONN_OPTS                                                                                 \
	{ "conn", 0, OPT_STRING, &pg_opts.conn_id, "ID",                                             \
	  "Airflow connection id: read from AIRFLOW_CONN_<ID> (URI or JSON)", 0 },                   \
	{ "conn-file", 0, OPT_STRING, &pg_opts.conn_file, "PATH",                                    \
	  "a mounted secret file holding the connection's URI or JSON", 0 },                         \
	{ "password-file", 0, OPT_STRING, &pg_opts.password_file, "PATH",                            \
	  "a mounted secret file holding the password (overrides the connection's)", 0 },           \
	{ "keytab", 0, OPT_STRING, &pg_opts.keytab, "PATH",                                          \
	  "log in to Kerberos from this keytab into a MEMORY: cache (with --principal)", 0 },        \
	{ "principal", 0, OPT_STRING, &pg_opts.principal, "NAME", "the Kerberos principal for --keytab", \
	  0 },                                                                                       \
	{ "connect-timeout", 0, OPT_DURATION, &pg_opts.connect_timeout_ms, "DURATION",               \
	  "give up one connection attempt after this long (default 10s)", 0 },                       \
	{ "retries", 0, OPT_INT, &pg_opts.retries, "N",                                              \
	  "retry a failed connection N times with backoff, then exit 75 (default 2)", 0 },           \
	{ "statement-timeout", 0, OPT_DURATION, &pg_opts.statement_timeout_ms, "DURATION",           \
	  "cancel any statement running longer (server-side statement_timeout; 0 = none)", 0 },     \
	{ "lock-timeout", 0, OPT_DURATION, &pg_opts.lock_timeout_ms, "DURATION",                     \
	  "fail a statement that waits longer for a lock (exit 75; 0 = none)", 0 }
/* clang-format on */

/* Connect with retries. Returns TR_EXIT_OK with *out set, or the exit code (already reported). */
int pg_connect(PGconn **out);

/* The next result of the running query, waiting on the socket and the signal pipe. When a stop
 * signal arrives the statement is cancelled on the server; the results then end with an error. */
PGresult *pg_next_result(PGconn *conn);

/* Run sql (one or more statements, no COPY) and return its first failed or last result, waiting
 * like pg_next_result. NULL when it could not be sent or no answer came before a stop's deadline. */
PGresult *pg_exec(PGconn *conn, const char *sql);

/* Wait until the socket is readable (for_write: readable or writable). On a stop signal the
 * running statement is cancelled (within 2 s) and the wait goes on until 3 s after the signal.
 * Returns 0 to go on, or -1 when that deadline passed (or the wait failed). */
int pg_wait_socket(PGconn *conn, int for_write);

/* The exit code for a failed result (SQLSTATE classes: 40001/40P01/08/53/57P0x/55P03 are
 * temporary, 28 is authentication, everything else is a failed task). */
int pg_result_exit_code(const PGresult *res);

/* Report a failed result (log line with SQLSTATE, position, the result's "error") and return its
 * exit code, or 128+N when the failure is our own cancel after a stop signal. */
int pg_report_failure(const PGresult *res, const char *where);

#endif
