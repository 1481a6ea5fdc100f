/* pgconn: libpq connection setup, signal-aware waiting and error classification, for every runner
 * that talks to PostgreSQL (postgres-runner, model-deployer). */
#include "pgconn.h"

#include <stdbool.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "conn.h"
#include "exitcode.h"
#include "log.h"
#include "result.h"
#include "runid.h"
#include "signals.h"
#include "sqlconn.h"
#include "sqlresult.h"
#include "strlist.h"

#define CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

/* libpq keyword/value pairs, NULL-terminated for PQconnectStartParams. */
struct kv {
	struct strlist keys, values;
};

static void kv_set(struct kv *kv, const char *key, const char *value)
{
	for (size_t i = 0; i < kv->keys.len; i++) {
		if (strcmp(kv->keys.items[i], key) == 0) {
			free(kv->values.items[i]);
			kv->values.items[i] = xstrdup(value);
			return;
		}
	}
	strlist_push(&kv->keys, key);
	strlist_push(&kv->values, value);
}

static const char *kv_get(const struct kv *kv, const char *key)
{
	for (size_t i = 0; i < kv->keys.len; i++)
		if (strcmp(kv->keys.items[i], key) == 0)
			return kv->values.items[i];
	return NULL;
}

static int is_libpq_keyword(const char *key)
{
	PQconninfoOption *defs = PQconndefaults();
	int found = 0;
	for (PQconninfoOption *o = defs; o && o->keyword && !found; o++)
		found = strcmp(o->keyword, key) == 0;
	PQconninfoFree(defs);
	return found;
}

/* Extras that are libpq keywords pass through; Airflow's own (cursor, iam, ...) are skipped. */
static void add_extras(struct kv *kv, const struct conn *c)
{
	char scratch[64];
	for (const cJSON *e = c->extra->child; e; e = e->next) {
		const char *value = conn_extra_get(c, e->string, scratch, sizeof scratch);
		if (value && is_libpq_keyword(e->string))
			kv_set(kv, e->string, value);
		else
			log_warn("connection", "ignoring the connection extra '%s': not a libpq connection keyword",
			         e->string);
	}
}

static void add_timeouts(struct kv *kv)
{
	struct buf options = BUF_INIT;
	const char *given = kv_get(kv, "options");
	if (given)
		buf_printf(&options, "%s ", given);
	if (sql_opts.statement_timeout_ms > 0)
		buf_printf(&options, "-c statement_timeout=%ld ", sql_opts.statement_timeout_ms);
	if (sql_opts.lock_timeout_ms > 0)
		buf_printf(&options, "-c lock_timeout=%ld ", sql_opts.lock_timeout_ms);
	if (options.len)
		kv_set(kv, "options", buf_str(&options));
	buf_free(&options);
	char seconds[32];
	snprintf(seconds, sizeof seconds, "%ld", (sql_opts.connect_timeout_ms + 999) / 1000);
	kv_set(kv, "connect_timeout", seconds);
}

/* verify-ca/verify-full need a CA: default to the image's bundle rather than ~/.postgresql. */
static void add_tls_defaults(struct kv *kv)
{
	const char *mode = kv_get(kv, "sslmode");
	if (mode && strncmp(mode, "verify-", 7) == 0 && !kv_get(kv, "sslrootcert") && access(CA_BUNDLE, R_OK) == 0)
		kv_set(kv, "sslrootcert", CA_BUNDLE);
}

static int build_params(const struct conn *c, struct kv *kv)
{
	char user[256] = "";
	if (strcmp(c->conn_type, "postgres") != 0 && c->conn_type[0])
		return result_fail(TR_EXIT_USAGE, "connection",
		                   "the connection's type is '%s'; %s needs a postgres connection", c->conn_type,
		                   log_runner());
	int rc = sql_setup_kerberos(c, user, sizeof user);
	if (rc)
		return rc;
	add_extras(kv, c);
	if (c->host[0])
		kv_set(kv, "host", c->host);
	/* Without a host libpq tries a local socket, which no container has: a configuration error. */
	if (!kv_get(kv, "host") && !kv_get(kv, "hostaddr"))
		return result_fail(TR_EXIT_USAGE, "connection",
		                   "the connection has no host; set the host (a name, an address or a socket folder)");
	if (c->port >= 0) {
		char port[24];
		snprintf(port, sizeof port, "%ld", c->port);
		kv_set(kv, "port", port);
	}
	if (c->login || user[0])
		kv_set(kv, "user", c->login ? c->login : user);
	if (c->password)
		kv_set(kv, "password", c->password);
	if (c->schema[0])
		kv_set(kv, "dbname", c->schema);
	char *app = runid_application_name(log_runner(), 63);
	kv_set(kv, "application_name", app);
	free(app);
	add_timeouts(kv);
	add_tls_defaults(kv);
	return TR_EXIT_OK;
}

static int contains_any(const char *msg, const char *const *needles)
{
	for (; *needles; needles++)
		if (strstr(msg, *needles))
			return 1;
	return 0;
}

/* libpq reports connection failures as text only; these phrases are libpq's own (our static
 * build has no translations) and the server's FATAL messages. */
static int classify_connect_error(PGconn *conn)
{
	static const char *const auth[] = {
		"authentication failed", "GSSAPI", "Kerberos", "no pg_hba.conf entry", "password", "role \"", NULL
	};
	static const char *const config[] = { "database \"", "certificate", "does not support SSL",
		                              "invalid ",    "SSL error",   NULL };
	static const char *const temporary[] = { "Connection refused",
		                                 "timeout expired",
		                                 "starting up",
		                                 "shutting down",
		                                 "too many clients",
		                                 "No route to host",
		                                 "Network is unreachable",
		                                 "could not translate host name",
		                                 "closed the connection",
		                                 "Connection reset",
		                                 "recovery mode",
		                                 "could not connect",
		                                 "No such file or directory",
		                                 NULL };
	const char *msg = PQerrorMessage(conn);
	if (PQconnectionNeedsPassword(conn) || contains_any(msg, auth))
		return TR_EXIT_AUTH;
	if (contains_any(msg, config))
		return TR_EXIT_USAGE;
	if (contains_any(msg, temporary))
		return TR_EXIT_TEMPFAIL;
	return TR_EXIT_FAILED;
}

/* One attempt, driven by PQconnectPoll so that a stop signal ends it at once. *timed_out is set
 * when the server accepted the connection but did not answer within --connect-timeout. */
static PGconn *connect_once(const struct kv *kv, bool *timed_out)
{
	const char **keys = xmalloc((kv->keys.len + 1) * sizeof *keys),
	           **values = xmalloc((kv->keys.len + 1) * sizeof *values);
	for (size_t i = 0; i < kv->keys.len; i++) {
		keys[i] = kv->keys.items[i];
		values[i] = kv->values.items[i];
	}
	keys[kv->keys.len] = values[kv->keys.len] = NULL;
	PGconn *conn = PQconnectStartParams(keys, values, 0);
	free(keys);
	free(values);
	long deadline = sql_opts.connect_timeout_ms ? clock_ms() + sql_opts.connect_timeout_ms : SIG_NO_DEADLINE;
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	while (conn && PQstatus(conn) != CONNECTION_BAD && st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
		enum sig_wake w =
		        sig_wait_fd(PQsocket(conn), st == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline, false);
		*timed_out = w == SIG_WAKE_TIMEOUT;
		if (w != SIG_WAKE_READY)
			break;
		st = PQconnectPoll(conn);
	}
	return conn;
}

static void log_connected(PGconn *conn)
{
	cJSON *f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "host", PQhost(conn) ? PQhost(conn) : "");
	cJSON_AddStringToObject(f, "port", PQport(conn) ? PQport(conn) : "");
	cJSON_AddStringToObject(f, "database", PQdb(conn));
	cJSON_AddStringToObject(f, "user", PQuser(conn));
	cJSON_AddBoolToObject(f, "tls", PQsslInUse(conn));
	cJSON_AddBoolToObject(f, "gss_encryption", PQgssEncInUse(conn));
	cJSON_AddNumberToObject(f, "server_version", PQserverVersion(conn));
	log_event(LOG_LEVEL_INFO, "connected", f, "connected to %s/%s as %s", PQhost(conn) ? PQhost(conn) : "",
	          PQdb(conn), PQuser(conn));
}

/* When a stop's cancel cannot reach the server (a TLS cancel request needs the server's answer
 * before it is sent), the server must still end our statement once our connection is closed:
 * have it check the connection while running queries (PostgreSQL 14 and later). */
static void end_work_when_we_are_gone(PGconn *conn)
{
	if (PQserverVersion(conn) < 140000)
		return;
	PGresult *res = pg_exec(conn, "SET client_connection_check_interval = 1000");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		log_debug("connected", "cannot set client_connection_check_interval: %s", PQresultErrorMessage(res));
	PQclear(res);
}

/* One attempt for sql_connect_with_retries: ctx is a struct attempt. */
struct attempt {
	const struct kv *kv;
	PGconn *conn;
};

static int attempt_connect(void *ctx, char *why, size_t whylen)
{
	struct attempt *a = ctx;
	bool timed_out = false;
	PGconn *conn = connect_once(a->kv, &timed_out);
	if (conn && PQstatus(conn) == CONNECTION_OK && !sig_caught()) {
		log_connected(conn);
		end_work_when_we_are_gone(conn);
		a->conn = conn;
		return TR_EXIT_OK;
	}
	int code = timed_out ? TR_EXIT_TEMPFAIL : conn ? classify_connect_error(conn) : TR_EXIT_FAILED;
	if (timed_out)
		snprintf(why, whylen, "no answer from the server within --connect-timeout %ld ms",
		         sql_opts.connect_timeout_ms);
	else
		snprintf(why, whylen, "%s", conn ? PQerrorMessage(conn) : "out of memory");
	PQfinish(conn);
	return code;
}

int pg_connect(PGconn **out)
{
	struct conn c;
	struct kv kv = { { 0 }, { 0 } };
	*out = NULL;
	int rc = sql_load_conn(&c);
	if (rc)
		return rc;
	rc = build_params(&c, &kv);
	conn_free(&c);
	struct attempt a = { &kv, NULL };
	if (!rc)
		rc = sql_connect_with_retries(attempt_connect, &a);
	*out = a.conn;
	strlist_free(&kv.keys);
	strlist_free(&kv.values);
	return rc;
}

/* After a stop signal: ask the server to cancel, once, giving the cancel request at most
 * CANCEL_TIMEOUT_MS (the server may be unreachable), then wait for the server's answer until
 * STOP_GRACE_MS after the signal was noticed, so that the whole exit stays within 5 s. */
#define CANCEL_TIMEOUT_MS 2000
#define STOP_GRACE_MS     3000
static long stop_deadline = SIG_NO_DEADLINE; /* set once the cancel was tried */

/* Drive a started cancel request like a connection (PQconnectPoll's rules). */
static bool cancel_poll(PGcancelConn *cancel, long deadline)
{
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
		short events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT;
		if (sig_wait_fd(PQcancelSocket(cancel), events, deadline, true) != SIG_WAKE_READY)
			return false;
		st = PQcancelPoll(cancel);
	}
	return st == PGRES_POLLING_OK;
}

static void cancel_running(PGconn *conn)
{
	if (stop_deadline != SIG_NO_DEADLINE)
		return;
	long start = clock_ms();
	stop_deadline = start + STOP_GRACE_MS;
	PGcancelConn *cancel = PQcancelCreate(conn);
	bool started = cancel && PQcancelStart(cancel);
	if (started && cancel_poll(cancel, start + CANCEL_TIMEOUT_MS))
		log_warn("cancel", "stop signal %d: cancelled the running statement on the server", sig_caught());
	else
		log_warn("cancel", "stop signal %d: cannot cancel the running statement: %s", sig_caught(),
		         !started || PQcancelStatus(cancel) == CONNECTION_BAD
		                 ? PQcancelErrorMessage(cancel)
		                 : "the server did not answer within 2 s; it ends the statement when the connection "
		                   "closes");
	PQcancelFinish(cancel);
}

int pg_wait_socket(PGconn *conn, int for_write)
{
	/* Writing waits for input too: the server may answer (an error) instead of reading. */
	short events = for_write ? POLLIN | POLLOUT : POLLIN;
	bool stopping = stop_deadline != SIG_NO_DEADLINE;
	switch (sig_wait_fd(PQsocket(conn), events, stop_deadline, stopping)) {
	case SIG_WAKE_READY: return 0;
	case SIG_WAKE_STOP: cancel_running(conn); return 0; /* next: the answer, until the deadline */
	default: return -1;
	}
}

PGresult *pg_exec(PGconn *conn, const char *sql)
{
	PGresult *res, *last = NULL;
	if (!PQsendQuery(conn, sql))
		return NULL;
	while ((res = pg_next_result(conn)))
		last = pg_keep_result(last, res);
	return last;
}

PGresult *pg_keep_result(PGresult *last, PGresult *res)
{
	if (last && PQresultStatus(last) == PGRES_FATAL_ERROR) {
		PQclear(res); /* the first error is the one to report */
		return last;
	}
	PQclear(last);
	return res;
}

PGresult *pg_next_result(PGconn *conn)
{
	while (PQisBusy(conn)) {
		if (pg_wait_socket(conn, 0) < 0 || !PQconsumeInput(conn))
			return NULL;
	}
	return PQgetResult(conn);
}

int pg_report_failure(const PGresult *res, const char *where)
{
	struct sql_error e = { 0 };
	if (res) {
		e.sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		e.primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		e.detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
		e.hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
		if (!e.primary)
			e.primary = PQresultErrorMessage(res);
	}
	return sql_report_error(&e, where);
}
