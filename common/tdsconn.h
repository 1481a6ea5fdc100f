/* tdsconn: SQL Server through FreeTDS db-lib, for every runner that talks to it (sqlserver-runner,
 * model-deployer). It owns db-lib's process-wide state (dbinit, the error and message handlers),
 * the login built from an Airflow mssql connection, connecting with common/sqlconn's flags,
 * Kerberos preflight and retries, the server's messages, waiting on the socket and the signal
 * pipe together, and the TDS attention a stop signal sends.
 *
 * The connection: host, port (default 1433), schema = database, login + password = a SQL login,
 * no password = Kerberos (FreeTDS then sends a GSSAPI token; the ticket comes from KRB5CCNAME,
 * the platform cache, or --keytab/--principal). Extras, as Microsoft's provider names them:
 * encrypt (off|optional|mandatory|strict, also no/yes/false/true; default mandatory),
 * trust_server_certificate (skip verifying the server's certificate), spn (default
 * MSSQLSvc/host:port) and app_name (default: the run identity, common/runid).
 * TLS is verified against $SSL_CERT_FILE, else the image's CA bundle, with the host name checked.
 *
 * FreeTDS takes TLS and host settings only from a configuration file: each attempt hands it an
 * in-memory one (memfd) made of /etc/freetds.conf (or $FREETDSCONF) followed by a section for
 * this connection, so nothing is written to disk and the root may be read-only.
 *
 * Running a batch: mssql_send() sends it and waits for the first answer; then mssql_results() and
 * db-lib's own dbnextrow()/dbdata() read it. A stop signal (SIGTERM, SIGINT) in any of these
 * sends a TDS attention (dbcancel's), waits for the server's acknowledgement for at most
 * MSSQL_STOP_GRACE_MS, and makes the call fail with s->stopped set; mssql_stop() then rolls back and
 * closes, and the runner exits 128+N. --statement-timeout works the same way (exit 75). */
#ifndef TR_TDSCONN_H
#define TR_TDSCONN_H

#include <stdbool.h>
#include <stddef.h>

#include <sybfront.h>
#include <sybdb.h>

#include "conn.h"

#define MSSQL_DEFAULT_PORT  1433
#define MSSQL_STOP_GRACE_MS 3000 /* wait this long for the attention's acknowledgement */

/* One ERROR or INFO token from the server, or an error of db-lib itself (client = true: then
 * number is db-lib's SYBE* code and severity db-lib's). */
struct mssql_message {
	int number;
	int severity;
	int state;
	int line;
	bool client;
	char text[1024];
};

/* An informational message (severity <= 10: PRINT, RAISERROR ... WITH low severity). */
typedef void (*mssql_info_fn)(void *ctx, const struct mssql_message *m);

/* What the connection is and how it was made: for logs and `check`. */
struct mssql_info {
	char host[256];
	long port;
	char database[129];
	char user[129];     /* the SQL login; "" with Kerberos */
	bool kerberos;      /* authenticated with a Kerberos ticket */
	char spn[300];      /* the service principal asked for (Kerberos) */
	char encrypt[16];   /* off, optional, mandatory or strict: what was asked for */
	bool verify_server; /* the certificate was checked against the CA bundle */
	char app_name[129];
};

struct mssql_session {
	DBPROCESS *db;
	struct mssql_info info;
	mssql_info_fn on_info; /* NULL: info messages become log lines (event "message") */
	void *on_info_ctx;
	/* Since the last mssql_send(): */
	struct mssql_message error; /* the first error (error.number != 0 when set) */
	bool failed;                /* an error of severity >= 11 arrived */
	bool timed_out;             /* --statement-timeout cancelled the batch */
	bool stopped;               /* a stop signal cancelled the batch */
	bool dead;                  /* the connection is gone */
	bool in_transaction;        /* set by the caller around BEGIN TRAN ... COMMIT: mssql_stop rolls back */
	long cancel_deadline;       /* internal: clock_ms() deadline of a sent attention, or -1 */
};

/* --- connecting --- */

/* Connect to the connection --conn/--conn-file names (sql_load_conn), with Kerberos setup and
 * --retries. The session is zeroed first; on_info may be set after. Returns TR_EXIT_OK, or the
 * exit code (already reported: 2 configuration, 3 login refused or no ticket, 75 unreachable,
 * 128+N stopped). */
int mssql_connect(struct mssql_session *s);

/* The same for an already loaded connection (model-deployer: one per target). */
int mssql_connect_conn(struct mssql_session *s, const struct conn *c);

/* Close the connection (no rollback: an open transaction is rolled back by the server). */
void mssql_close(struct mssql_session *s);

/* --- running --- */

/* Send sql (len bytes, one batch) and wait for the server's first answer (dbsqlok). Returns
 * SUCCEED, or FAIL with the reason in s (failed/timed_out/stopped/dead). */
RETCODE mssql_send(struct mssql_session *s, const char *sql, size_t len);

/* The next result of the batch (dbresults): SUCCEED, NO_MORE_RESULTS or FAIL. */
RETCODE mssql_results(struct mssql_session *s);

/* Run sql and discard its rows; *rows (may be NULL) gets the rows affected (-1: none reported).
 * Returns TR_EXIT_OK, or the exit code of the failure (not reported: see mssql_report_failure). */
int mssql_exec(struct mssql_session *s, const char *sql, long *rows);

/* The exit code of the session's failure since mssql_send: 128+N after a stop signal, 75 after a
 * timeout or a lost connection, else sql_server_exit_code() of the first error. */
int mssql_failure_code(const struct mssql_session *s);

/* Report the failure while running where ("deploy.sql:12"): one error log line
 * "where: Msg N, Level S, State T, Line L: text", "sql_error_number" in the result JSON.
 * Returns the exit code (mssql_failure_code). */
int mssql_report_failure(struct mssql_session *s, const char *where);

/* After a stop signal: make sure the running batch is cancelled (attention, acknowledged within
 * the grace period), roll back an open transaction, close. Returns 128+N (reported). */
int mssql_stop(struct mssql_session *s);

#endif
