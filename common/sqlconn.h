/* sqlconn: connecting the task contract's way, for every SQL runner. It owns the connection
 * flag set (--conn, --conn-file, --password-file, --keytab/--principal, timeouts, --retries),
 * loading the Airflow connection with the password file applied, the Kerberos login or ticket
 * preflight, and retrying a temporary failure with backoff (exit 2, 3 or 75 when it gives up).
 * The driver (libpq, ...) stays in the runner: it supplies one connection attempt. */
#ifndef TR_SQLCONN_H
#define TR_SQLCONN_H

#include <stddef.h>

#include "cli.h"
#include "conn.h"

struct sql_opts {
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

extern struct sql_opts sql_opts;

/* The connection flags every SQL subcommand takes. */
/* clang-format off */
#define SQL_CONN_OPTS                                                                                \
	{ "conn", 0, OPT_STRING, &sql_opts.conn_id, "ID",                                            \
	  "Airflow connection id: read from AIRFLOW_CONN_<ID> (URI or JSON)", 0 },                   \
	{ "conn-file", 0, OPT_STRING, &sql_opts.conn_file, "PATH",                                   \
	  "a mounted secret file holding the connection's URI or JSON", 0 },                         \
	{ "password-file", 0, OPT_STRING, &sql_opts.password_file, "PATH",                           \
	  "a mounted secret file holding the password (overrides the connection's)", 0 },           \
	{ "keytab", 0, OPT_STRING, &sql_opts.keytab, "PATH",                                         \
	  "log in to Kerberos from this keytab into a MEMORY: cache (with --principal)", 0 },        \
	{ "principal", 0, OPT_STRING, &sql_opts.principal, "NAME", "the Kerberos principal for --keytab", \
	  0 },                                                                                       \
	{ "connect-timeout", 0, OPT_DURATION, &sql_opts.connect_timeout_ms, "DURATION",              \
	  "give up one connection attempt after this long (default 10s)", 0 },                       \
	{ "retries", 0, OPT_INT, &sql_opts.retries, "N",                                             \
	  "retry a failed connection N times with backoff, then exit 75 (default 2)", 0 },           \
	{ "statement-timeout", 0, OPT_DURATION, &sql_opts.statement_timeout_ms, "DURATION",          \
	  "cancel any statement running longer than this (0 = none)", 0 },                           \
	{ "lock-timeout", 0, OPT_DURATION, &sql_opts.lock_timeout_ms, "DURATION",                    \
	  "fail a statement that waits longer for a lock (exit 75; 0 = none)", 0 }
/* clang-format on */

/* Load the connection --conn or --conn-file names, with --password-file applied. Returns
 * TR_EXIT_OK, or the exit code (reported). */
int sql_load_conn(struct conn *c);

/* Kerberos for connection c: the --keytab login into a MEMORY: cache, else (when KRB5CCNAME is
 * set and c has no password) the ticket cache's preflight. When c has no login, user gets the
 * ticket's principal without realm or instance. Returns TR_EXIT_OK or the exit code (reported). */
int sql_setup_kerberos(const struct conn *c, char *user, size_t userlen);

/* One connection attempt by the driver. Returns TR_EXIT_OK, or the exit code the failure
 * deserves (TR_EXIT_TEMPFAIL: worth retrying) with a one-line reason in why. */
typedef int (*sql_attempt_fn)(void *ctx, char *why, size_t whylen);

/* Call attempt until it works, fails for good, or --retries are used up, with exponential
 * backoff (1 s, 2 s, 4 s, ... 32 s) that a stop signal ends at once. Returns TR_EXIT_OK, 128+N
 * after a stop signal, or the exit code (reported). */
int sql_connect_with_retries(sql_attempt_fn attempt, void *ctx);

#endif
