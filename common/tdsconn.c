/* tdsconn: FreeTDS db-lib setup, logins, messages, signal-aware waits and cancels. */
#define _GNU_SOURCE /* memfd_create */
#include "tdsconn.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "exitcode.h"
#include "fsutil.h"
#include "krb.h"
#include "log.h"
#include "result.h"
#include "runid.h"
#include "signals.h"
#include "sqlconn.h"
#include "sqlresult.h"

#define CA_BUNDLE         "/etc/ssl/certs/ca-certificates.crt"
#define FREETDS_CONF      "/etc/freetds.conf"
#define CONF_SECTION      "tinyrun-target"
#define MAX_BASE_CONF     ((size_t)64 * 1024)
#define STOP_ROLLBACK_MS  1000 /* after the acknowledgement: the rollback's own budget */
#define NO_DEADLINE       (-1L)
#define SQL_LOGIN_MAX_LEN 128

/* db-lib calls its handlers with the DBPROCESS; during dbopen it has no session attached yet.
 * db-lib cannot be interrupted while it logs in, so the login time is one second and on_timeout
 * keeps it waiting, second by second, until the connect deadline or a stop signal. */
static struct mssql_session *connecting;
static long connect_deadline = -1;
static bool tcp_timed_out; /* the last dbopen's TCP connect took longer than a second */

static struct mssql_session *session_of(DBPROCESS *db)
{
	struct mssql_session *s = db ? (struct mssql_session *)dbgetuserdata(db) : NULL;
	return s ? s : connecting;
}

static void remember_error(struct mssql_session *s, const struct mssql_message *m)
{
	if (!s)
		return;
	if (!m->client)
		s->failed = true;
	/* A server error explains more than db-lib's "connection failed" that follows it. */
	if (s->error.number == 0 || (s->error.client && !m->client))
		s->error = *m;
}

/* db-lib's MHANDLEFUNC: its parameters are not const. */
static int on_message(DBPROCESS *db, DBINT number, int state, int severity, char *text,
                      char *server, // NOLINT(readability-non-const-parameter)
                      char *proc,   // NOLINT(readability-non-const-parameter)
                      int line)
{
	(void)server;
	(void)proc;
	struct mssql_session *s = session_of(db);
	struct mssql_message m = { .number = number, .severity = severity, .state = state, .line = line };
	snprintf(m.text, sizeof m.text, "%s", text ? text : "");
	m.text[strcspn(m.text, "\r\n")] = '\0';
	if (severity > 10)
		remember_error(s, &m);
	else if (number == 5701 || number == 5703 || number == 5704) /* changed database/language/charset */
		log_debug("message", "%s", m.text);
	else if (s && s->on_info)
		s->on_info(s->on_info_ctx, &m);
	else
		log_info("message", "%s", m.text);
	return 0;
}

/* A read timed out (--statement-timeout), or the interrupt handler asked to stop waiting. The
 * first time, INT_TIMEOUT makes db-lib send an attention and read on until its acknowledgement;
 * once the grace period is over, INT_CANCEL drops the connection. */
static int on_timeout(struct mssql_session *s)
{
	if (!s)
		return INT_CANCEL;
	if (s == connecting) {
		if (!sig_caught() && (connect_deadline == NO_DEADLINE || clock_ms() < connect_deadline))
			return INT_CONTINUE;
		s->timed_out = !sig_caught();
		return INT_CANCEL;
	}
	if (s->cancel_deadline == NO_DEADLINE) {
		if (sig_caught())
			s->stopped = true;
		else
			s->timed_out = true;
		s->cancel_deadline = clock_ms() + MSSQL_STOP_GRACE_MS;
		return INT_TIMEOUT;
	}
	if (clock_ms() < s->cancel_deadline)
		return INT_CONTINUE;
	s->dead = true;
	return INT_CANCEL;
}

static int on_error(DBPROCESS *db, int severity, int dberr, int oserr, char *dberrstr, char *oserrstr)
{
	struct mssql_session *s = session_of(db);
	if (dberr == SYBESMSG) /* "check messages from the server": on_message has them */
		return INT_CANCEL;
	if (dberr == SYBETIME)
		return on_timeout(s);
	struct mssql_message m = { .number = dberr, .severity = severity, .client = true };
	snprintf(m.text, sizeof m.text, "%s%s%s", dberrstr ? dberrstr : "db-lib error",
	         oserr != DBNOERR && oserrstr ? ": " : "", oserr != DBNOERR && oserrstr ? oserrstr : "");
	if (dberr == SYBECONN && oserr == ETIMEDOUT)
		tcp_timed_out = true;
	remember_error(s, &m);
	if (s && (dberr == SYBEREAD || dberr == SYBEWRIT || dberr == SYBESEOF || (db && DBDEAD(db))))
		s->dead = true;
	return INT_CANCEL;
}

/* db-lib polls in one-second slices and asks these between slices and after EINTR. */
static int interrupt_pending(void *db)
{
	(void)db;
	return sig_caught() != 0;
}

static int interrupt_handle(void *db)
{
	struct mssql_session *s = session_of(db);
	if (s && s->cancel_deadline != NO_DEADLINE && clock_ms() < s->cancel_deadline)
		return INT_CONTINUE; /* the attention is out: wait for its acknowledgement */
	return INT_CANCEL;           /* -> SYBETIME -> on_timeout */
}

static int lib_init(void)
{
	static bool ready;
	if (ready)
		return TR_EXIT_OK;
	if (dbinit() == FAIL)
		return result_fail(TR_EXIT_FAILED, "freetds", "cannot initialise FreeTDS db-lib");
	dberrhandle(on_error);
	dbmsghandle(on_message);
	ready = true;
	return TR_EXIT_OK;
}

/* --- the login --- */

/* How a connection asks to be reached: everything but the secret. */
struct target {
	struct mssql_info info;
	const char *password;    /* NULL: Kerberos */
	const char *freetds_enc; /* FreeTDS's word for info.encrypt */
	char ca_file[PATH_MAX];
};

static int parse_bool(const char *value, bool *out)
{
	static const char *const yes[] = { "true", "yes", "1", "on", NULL }, *const no[] = { "false", "no", "0", "off",
		                                                                             NULL };
	for (const char *const *w = yes; *w; w++)
		if (strcasecmp(value, *w) == 0)
			return *out = true, 0;
	for (const char *const *w = no; *w; w++)
		if (strcasecmp(value, *w) == 0)
			return *out = false, 0;
	return -1;
}

static int parse_encrypt(const struct conn *c, struct target *t)
{
	static const struct {
		const char *word, *name, *freetds;
	} modes[] = {
		{ "off", "off", "off" },
		{ "no", "off", "off" },
		{ "false", "off", "off" },
		{ "optional", "optional", "request" },
		{ "mandatory", "mandatory", "require" },
		{ "yes", "mandatory", "require" },
		{ "true", "mandatory", "require" },
		{ "strict", "strict", "strict" },
	};
	char scratch[32];
	const char *value = conn_extra_get(c, "encrypt", scratch, sizeof scratch);
	if (!value)
		value = "mandatory"; /* Microsoft's ODBC Driver 18 default */
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		if (strcasecmp(value, modes[i].word) == 0) {
			snprintf(t->info.encrypt, sizeof t->info.encrypt, "%s", modes[i].name);
			t->freetds_enc = modes[i].freetds;
			return TR_EXIT_OK;
		}
	}
	return result_fail(TR_EXIT_USAGE, "connection",
	                   "the connection's extra encrypt is '%s'; use off, optional, mandatory or strict", value);
}

static int parse_tls(const struct conn *c, struct target *t)
{
	char scratch[32];
	bool trust = false;
	const char *value = conn_extra_get(c, "trust_server_certificate", scratch, sizeof scratch);
	if (value && parse_bool(value, &trust) < 0)
		return result_fail(TR_EXIT_USAGE, "connection",
		                   "the connection's extra trust_server_certificate is '%s'; use true or false", value);
	int rc = parse_encrypt(c, t);
	if (rc)
		return rc;
	t->info.verify_server = !trust && strcmp(t->info.encrypt, "off") != 0;
	const char *ca = getenv("SSL_CERT_FILE");
	snprintf(t->ca_file, sizeof t->ca_file, "%s", ca && *ca ? ca : CA_BUNDLE);
	if (t->info.verify_server && access(t->ca_file, R_OK) != 0)
		return result_fail(
		        TR_EXIT_USAGE, "connection",
		        "cannot read the CA bundle %s to verify the server's certificate: set SSL_CERT_FILE, "
		        "or the extra trust_server_certificate=true",
		        t->ca_file);
	return TR_EXIT_OK;
}

/* Values go into a FreeTDS configuration line, which ends at ';', '#' or a line break. */
static bool conf_safe(const char *value)
{
	return strlen(value) < 200 && value[strcspn(value, ";#\r\n[]")] == '\0';
}

static int parse_names(const struct conn *c, struct target *t)
{
	char scratch[300];
	if (!c->host[0] || !conf_safe(c->host) || strchr(c->host, ' '))
		return result_fail(TR_EXIT_USAGE, "connection", "the connection's host '%s' is %s", c->host,
		                   c->host[0] ? "not a host name or address" : "missing: set the server's host name");
	snprintf(t->info.host, sizeof t->info.host, "%s", c->host);
	t->info.port = c->port >= 0 ? c->port : MSSQL_DEFAULT_PORT;
	if (t->info.port < 1 || t->info.port > 65535)
		return result_fail(TR_EXIT_USAGE, "connection", "the connection's port %ld is out of range",
		                   t->info.port);
	if (strlen(c->schema) >= sizeof t->info.database)
		return result_fail(TR_EXIT_USAGE, "connection", "the connection's schema (the database) is too long");
	snprintf(t->info.database, sizeof t->info.database, "%s", c->schema);
	const char *spn = conn_extra_get(c, "spn", scratch, sizeof scratch);
	if (spn && (!spn[0] || !conf_safe(spn)))
		return result_fail(TR_EXIT_USAGE, "connection", "the connection's extra spn is not a principal name");
	if (spn)
		snprintf(t->info.spn, sizeof t->info.spn, "%s", spn);
	else
		snprintf(t->info.spn, sizeof t->info.spn, "MSSQLSvc/%s:%ld", t->info.host, t->info.port);
	const char *app = conn_extra_get(c, "app_name", scratch, sizeof scratch);
	char *run_app = app ? NULL : runid_application_name("sqlserver-runner", SQL_LOGIN_MAX_LEN);
	snprintf(t->info.app_name, sizeof t->info.app_name, "%s", app ? app : run_app);
	free(run_app);
	return TR_EXIT_OK;
}

static int parse_auth(const struct conn *c, struct target *t)
{
	t->password = c->password;
	t->info.kerberos = !c->password;
	if (t->info.kerberos) {
		if (c->login && c->login[0])
			log_info("connection", "the connection has a login but no password: logging in with Kerberos");
		char user[256];
		int rc = sql_setup_kerberos(c, user, sizeof user);
		if (rc)
			return rc;
		if (!getenv("KRB5CCNAME")) { /* sqlconn checks only a named cache; check krb5's default too */
			char err[1024];
			struct krb_ticket tk;
			rc = krb_preflight(NULL, 0, &tk, err, sizeof err);
			if (rc)
				return result_fail(rc, "kerberos", "%s", err);
		}
		return TR_EXIT_OK;
	}
	if (!c->login || !c->login[0])
		return result_fail(TR_EXIT_USAGE, "connection",
		                   "the connection has a password but no login; remove the password to use Kerberos");
	if (strlen(c->login) > SQL_LOGIN_MAX_LEN)
		return result_fail(TR_EXIT_USAGE, "connection", "the connection's login is too long");
	snprintf(t->info.user, sizeof t->info.user, "%s", c->login);
	return TR_EXIT_OK;
}

static int parse_target(const struct conn *c, struct target *t)
{
	memset(t, 0, sizeof *t);
	if (c->conn_type[0] && strcmp(c->conn_type, "mssql") != 0)
		return result_fail(TR_EXIT_USAGE, "connection",
		                   "the connection's type is '%s'; sqlserver-runner needs an mssql connection",
		                   c->conn_type);
	int rc = parse_names(c, t);
	if (!rc)
		rc = parse_tls(c, t);
	if (!rc)
		rc = parse_auth(c, t);
	return rc;
}

/* An in-memory freetds.conf: the base file's [global] defaults, then this connection's section.
 * Returns the fd (its path is /proc/self/fd/N), or -1 with err. */
static int write_conf(const struct target *t, char *err, size_t errlen)
{
	const char *base_path = getenv("FREETDSCONF") ? getenv("FREETDSCONF") : FREETDS_CONF;
	char *base = NULL;
	size_t base_len = 0;
	if (fs_read_file(base_path, MAX_BASE_CONF, &base, &base_len) != 0)
		base_len = 0; /* no base file: FreeTDS's built-in defaults */
	struct buf conf = BUF_INIT;
	buf_append(&conf, base ? base : "", base_len);
	free(base);
	buf_printf(&conf, "\n[%s]\n\thost = %s\n\tport = %ld\n\ttds version = 7.4\n\tclient charset = UTF-8\n",
	           CONF_SECTION, t->info.host, t->info.port);
	buf_printf(&conf, "\tencryption = %s\n\tca file = %s\n\tcheck certificate hostname = %s\n", t->freetds_enc,
	           t->info.verify_server ? t->ca_file : "", t->info.verify_server ? "yes" : "no");
	int fd = memfd_create("freetds.conf", MFD_CLOEXEC);
	int werr = fd < 0 ? errno : fs_write_all(fd, conf.data, conf.len);
	buf_free(&conf);
	if (werr) {
		snprintf(err, errlen, "cannot hand FreeTDS its configuration (memfd): %s", strerror(werr));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static LOGINREC *make_login(const struct target *t)
{
	LOGINREC *login = dblogin();
	if (!login)
		return NULL;
	DBSETLAPP(login, t->info.app_name);
	if (t->info.database[0])
		DBSETLDBNAME(login, t->info.database);
	if (t->info.kerberos) {
		DBSETLNETWORKAUTH(login, TRUE); /* empty user and password: FreeTDS sends a GSSAPI token */
		DBSETLSERVERPRINCIPAL(login, t->info.spn);
	} else {
		DBSETLUSER(login, t->info.user);
		DBSETLPWD(login, t->password);
	}
	return login;
}

/* --- connecting --- */

/* The exit code of a failed login: the server's error number when it sent one, else db-lib's. */
static int login_failure_code(const struct mssql_session *s)
{
	const struct mssql_message *e = &s->error;
	if (!e->client && e->number)
		return sql_server_exit_code(e->number, e->severity);
	switch (e->number) {
	case SYBEFCON: /* connected, then the TLS handshake or the Kerberos exchange failed */
		return s->info.kerberos ? TR_EXIT_AUTH : TR_EXIT_USAGE;
	case 0: return TR_EXIT_FAILED;
	default: return TR_EXIT_TEMPFAIL; /* no route, refused, unknown host, timed out, reset */
	}
}

static void failure_hint(const struct mssql_session *s, char *why, size_t whylen)
{
	const struct mssql_message *e = &s->error;
	if (e->number == 0)
		snprintf(why, whylen, "FreeTDS could not log in (no reason given)");
	else if (e->client && e->number == SYBEFCON && s->info.kerberos)
		snprintf(why, whylen,
		         "%s: the Kerberos login failed (is there a service principal %s in the KDC? "
		         "set the extra spn to the server's)",
		         e->text, s->info.spn);
	else if (e->client && e->number == SYBEFCON)
		snprintf(why, whylen,
		         "%s: the TLS handshake or the login failed (is the server's certificate signed by "
		         "a CA in %s, for this host name? see the extras encrypt and trust_server_certificate)",
		         e->text, getenv("SSL_CERT_FILE") ? getenv("SSL_CERT_FILE") : CA_BUNDLE);
	else if (e->client)
		snprintf(why, whylen, "%s%s", e->text,
		         strcmp(s->info.encrypt, "strict") == 0
		                 ? " (encrypt=strict needs a server that speaks TDS 8.0: SQL Server 2022 or Azure SQL)"
		                 : "");
	else
		snprintf(why, whylen, "the server said: Msg %d, Level %d, State %d: %s", e->number, e->severity,
		         e->state, e->text);
}

static void log_connected(const struct mssql_info *i)
{
	cJSON *f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "host", i->host);
	cJSON_AddNumberToObject(f, "port", (double)i->port);
	cJSON_AddStringToObject(f, "database", i->database);
	cJSON_AddStringToObject(f, "auth", i->kerberos ? "kerberos" : "sql");
	if (i->kerberos)
		cJSON_AddStringToObject(f, "spn", i->spn);
	else
		cJSON_AddStringToObject(f, "user", i->user);
	cJSON_AddStringToObject(f, "encrypt", i->encrypt);
	cJSON_AddBoolToObject(f, "verify_server", i->verify_server);
	cJSON_AddStringToObject(f, "app_name", i->app_name);
	log_event(LOG_LEVEL_INFO, "connected", f, "connected to %s:%ld/%s with %s", i->host, i->port,
	          i->database[0] ? i->database : "(default database)", i->kerberos ? "Kerberos" : "a SQL login");
}

/* dbopen, again while only the TCP connect timed out (it is limited to the one-second login
 * time), until the connect deadline or a stop signal. */
static DBPROCESS *open_until_deadline(struct mssql_session *s, LOGINREC *login)
{
	long timeout = sql_opts.connect_timeout_ms;
	connect_deadline = timeout > 0 ? clock_ms() + timeout : NO_DEADLINE;
	dbsetlogintime(1);
	connecting = s;
	DBPROCESS *db;
	do {
		memset(&s->error, 0, sizeof s->error);
		tcp_timed_out = false;
		db = dbopen(login, CONF_SECTION);
	} while (!db && tcp_timed_out && !sig_caught() &&
	         (connect_deadline == NO_DEADLINE || clock_ms() < connect_deadline));
	if (!db && tcp_timed_out)
		s->timed_out = true;
	connecting = NULL;
	return db;
}

struct attempt {
	struct mssql_session *s;
	const struct target *t;
};

static int attempt_connect(void *ctx, char *why, size_t whylen)
{
	struct attempt *a = ctx;
	struct mssql_session *s = a->s;
	s->failed = s->dead = s->timed_out = false;
	int fd = write_conf(a->t, why, whylen);
	if (fd < 0)
		return TR_EXIT_FAILED;
	LOGINREC *login = make_login(a->t);
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	dbsetifile(path);
	DBPROCESS *db = login ? open_until_deadline(s, login) : NULL;
	dbsetifile(NULL);
	close(fd);
	if (login)
		dbloginfree(login);
	if (db && !sig_caught()) {
		s->db = db;
		dbsetuserdata(db, (BYTE *)s);
		dbsetinterrupt(db, interrupt_pending, interrupt_handle);
		return TR_EXIT_OK;
	}
	if (db)
		dbclose(db);
	if (s->timed_out && !sig_caught()) {
		snprintf(why, whylen, "no answer from the server within --connect-timeout %ld ms",
		         sql_opts.connect_timeout_ms);
		return TR_EXIT_TEMPFAIL;
	}
	failure_hint(s, why, whylen);
	return login ? login_failure_code(s) : TR_EXIT_FAILED;
}

/* Session settings the task contract asks for: --lock-timeout, and --statement-timeout as
 * db-lib's read timeout (the wait in mssql_send has its own deadline too). */
static int apply_timeouts(struct mssql_session *s)
{
	dbsettime(sql_opts.statement_timeout_ms > 0 ? (int)((sql_opts.statement_timeout_ms + 999) / 1000) : 0);
	if (sql_opts.lock_timeout_ms <= 0)
		return TR_EXIT_OK;
	char sql[64];
	snprintf(sql, sizeof sql, "SET LOCK_TIMEOUT %ld", sql_opts.lock_timeout_ms);
	int rc = mssql_exec(s, sql, NULL);
	return rc ? mssql_report_failure(s, "SET LOCK_TIMEOUT") : TR_EXIT_OK;
}

int mssql_connect_conn(struct mssql_session *s, const struct conn *c)
{
	memset(s, 0, sizeof *s);
	s->cancel_deadline = NO_DEADLINE;
	int rc = lib_init();
	struct target t;
	if (!rc)
		rc = parse_target(c, &t);
	if (rc)
		return rc;
	s->info = t.info;
	struct attempt a = { s, &t };
	rc = sql_connect_with_retries(attempt_connect, &a);
	if (rc)
		return rc;
	log_connected(&s->info);
	return apply_timeouts(s);
}

int mssql_connect(struct mssql_session *s)
{
	struct conn c;
	int rc = sql_load_conn(&c);
	if (rc) {
		memset(s, 0, sizeof *s);
		return rc;
	}
	rc = mssql_connect_conn(s, &c);
	conn_free(&c);
	return rc;
}

void mssql_close(struct mssql_session *s)
{
	if (s->db)
		dbclose(s->db);
	s->db = NULL;
}

/* --- running --- */

/* Send the attention (dbcancel) and read until its acknowledgement; the interrupt handler ends
 * that read when the grace period is over. */
static void cancel_batch(struct mssql_session *s, bool stop)
{
	if (s->cancel_deadline != NO_DEADLINE || !s->db)
		return;
	if (stop)
		s->stopped = true;
	else
		s->timed_out = true;
	s->cancel_deadline = clock_ms() + MSSQL_STOP_GRACE_MS;
	log_warn("cancel", "%s: sending an attention to cancel the running batch",
	         stop ? "stop signal" : "--statement-timeout passed");
	dbcancel(s->db);
	if (DBDEAD(s->db))
		s->dead = true;
}

/* Wait for the server's first answer, on the socket and the signal pipe together. */
static bool wait_answer(struct mssql_session *s)
{
	long deadline = sql_opts.statement_timeout_ms > 0 ? clock_ms() + sql_opts.statement_timeout_ms : NO_DEADLINE;
	switch (sig_wait_fd(dbiordesc(s->db), POLLIN, deadline, false)) {
	case SIG_WAKE_READY: return true;
	case SIG_WAKE_STOP: cancel_batch(s, true); return false;
	case SIG_WAKE_TIMEOUT: cancel_batch(s, false); return false;
	default: s->dead = true; return false;
	}
}

static void reset_batch_state(struct mssql_session *s)
{
	memset(&s->error, 0, sizeof s->error);
	s->failed = s->timed_out = s->stopped = false;
	s->cancel_deadline = NO_DEADLINE;
}

RETCODE mssql_send(struct mssql_session *s, const char *sql, size_t len)
{
	reset_batch_state(s);
	if (!s->db || DBDEAD(s->db)) {
		s->dead = true;
		return FAIL;
	}
	char *text = xstrndup(sql, len);
	RETCODE rc = dbcmd(s->db, text);
	free(text);
	if (rc == SUCCEED)
		rc = dbsqlsend(s->db);
	if (rc == SUCCEED && !wait_answer(s))
		rc = FAIL;
	if (rc == SUCCEED)
		rc = dbsqlok(s->db);
	if (s->db && DBDEAD(s->db))
		s->dead = true;
	return rc;
}

RETCODE mssql_results(struct mssql_session *s)
{
	if (s->dead || s->cancel_deadline != NO_DEADLINE)
		return s->dead ? FAIL : NO_MORE_RESULTS;
	RETCODE rc = dbresults(s->db);
	if (DBDEAD(s->db))
		s->dead = true;
	return rc;
}

static bool batch_failed(const struct mssql_session *s)
{
	return s->failed || s->timed_out || s->stopped || s->dead || sig_caught();
}

int mssql_exec(struct mssql_session *s, const char *sql, long *rows)
{
	long total = -1;
	RETCODE rc = mssql_send(s, sql, strlen(sql));
	while (rc != FAIL && (rc = mssql_results(s)) != NO_MORE_RESULTS) {
		if (rc == SUCCEED)
			while ((rc = dbnextrow(s->db)) != NO_MORE_ROWS && rc != FAIL && rc != BUF_FULL)
				;
		if (DBCOUNT(s->db) >= 0)
			total = (total < 0 ? 0 : total) + DBCOUNT(s->db);
		if (s->dead)
			break;
	}
	if (rows)
		*rows = total;
	return batch_failed(s) ? mssql_failure_code(s) : TR_EXIT_OK;
}

int mssql_failure_code(const struct mssql_session *s)
{
	if (s->stopped || sig_caught())
		return sig_exit_code();
	if (s->timed_out || (s->dead && (s->error.number == 0 || s->error.client)))
		return TR_EXIT_TEMPFAIL;
	if (s->error.number && !s->error.client)
		return sql_server_exit_code(s->error.number, s->error.severity);
	return s->dead ? TR_EXIT_TEMPFAIL : TR_EXIT_FAILED;
}

int mssql_report_failure(struct mssql_session *s, const char *where)
{
	int code = mssql_failure_code(s);
	const struct mssql_message *e = &s->error;
	if (s->stopped || sig_caught())
		return result_fail(code, "stopped", "stopped by signal %d while running %s", sig_caught(), where);
	if (s->timed_out)
		return result_fail(code, "timeout", "%s: cancelled after --statement-timeout %ld ms", where,
		                   sql_opts.statement_timeout_ms);
	if (e->number && !e->client) {
		cJSON_AddNumberToObject(result_object(), "sql_error_number", e->number);
		return result_fail(code, "sql_error", "%s: Msg %d, Level %d, State %d, Line %d: %s", where, e->number,
		                   e->severity, e->state, e->line, e->text);
	}
	return result_fail(code, "sql_error", "%s: %s", where,
	                   e->number ? e->text : "the connection to the server was lost");
}

int mssql_stop(struct mssql_session *s)
{
	int code = sig_exit_code();
	if (s->db && !s->dead && !DBDEAD(s->db)) {
		cancel_batch(s, true);
		if (s->in_transaction && !s->dead && !DBDEAD(s->db)) {
			/* The acknowledgement came: the rollback gets its own short budget. */
			s->cancel_deadline = clock_ms() + STOP_ROLLBACK_MS;
			if (dbcmd(s->db, "IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION") == SUCCEED &&
			    dbsqlsend(s->db) == SUCCEED &&
			    sig_wait_fd(dbiordesc(s->db), POLLIN, s->cancel_deadline, true) == SIG_WAKE_READY &&
			    dbsqlok(s->db) == SUCCEED)
				while (dbresults(s->db) == SUCCEED)
					;
			log_warn("cancel", "rolled back the open transaction");
		}
	}
	mssql_close(s);
	return result_fail(code, "stopped", "stopped by signal %d", sig_caught());
}
