/* sqlconn: connection flags, loading, Kerberos and retries for SQL runners. */
#include "sqlconn.h"

#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"
#include "exitcode.h"
#include "krb.h"
#include "log.h"
#include "redact.h"
#include "result.h"
#include "secret.h"
#include "signals.h"

#define KEYTAB_CCACHE     "MEMORY:tinyrun"
#define MAX_BACKOFF_SHIFT 5 /* 32 s */

struct sql_opts sql_opts = { .connect_timeout_ms = 10000, .retries = 2 };

static int password_from_file(struct conn *c)
{
	if (!sql_opts.password_file)
		return TR_EXIT_OK;
	char *pw, err[1024];
	if (secret_read_file(sql_opts.password_file, "--password-file", &pw, err, sizeof err))
		return result_fail(TR_EXIT_USAGE, "config", "%s", err);
	redact_add(pw);
	free(c->password);
	c->password = pw;
	return TR_EXIT_OK;
}

int sql_load_conn(struct conn *c)
{
	char err[1024];
	int rc = conn_load(sql_opts.conn_id, sql_opts.conn_file, c, err, sizeof err);
	if (rc)
		return result_fail(rc, "connection", "%s", err);
	rc = password_from_file(c);
	if (rc)
		conn_free(c);
	return rc;
}

static void principal_primary(const char *principal, char *out, size_t len)
{
	snprintf(out, len, "%s", principal);
	out[strcspn(out, "/@")] = '\0';
}

int sql_setup_kerberos(const struct conn *c, char *user, size_t userlen)
{
	char err[1024];
	struct krb_ticket t;
	if (sql_opts.keytab || sql_opts.principal) {
		if (!sql_opts.principal)
			return result_fail(TR_EXIT_USAGE, "usage",
			                   "--keytab needs --principal (the Kerberos principal to log in as)");
		int rc = krb_kinit_keytab(sql_opts.keytab, sql_opts.principal, KEYTAB_CCACHE, err, sizeof err);
		if (rc)
			return result_fail(rc, "kerberos", "%s", err);
	}
	krb_use_platform_default();
	if (c->password || !getenv("KRB5CCNAME"))
		return TR_EXIT_OK;
	int rc = krb_preflight(NULL, 0, &t, err, sizeof err);
	if (rc)
		return result_fail(rc, "kerberos", "%s", err);
	if (!c->login)
		principal_primary(t.principal, user, userlen);
	cJSON *fields = cJSON_CreateObject();
	cJSON_AddStringToObject(fields, "principal", t.principal);
	cJSON_AddNumberToObject(fields, "expires_in_s", (double)(t.end - time(NULL)));
	log_event(LOG_LEVEL_INFO, "kerberos", fields, "using the Kerberos ticket of %s", t.principal);
	return TR_EXIT_OK;
}

int sql_connect_with_retries(sql_attempt_fn attempt, void *ctx)
{
	for (long n = 0;; n++) {
		char why[1024] = "";
		int code = attempt(ctx, why, sizeof why);
		if (code == TR_EXIT_OK)
			return code;
		if (sig_caught())
			return sig_exit_code();
		why[strcspn(why, "\n")] = '\0';
		if (code != TR_EXIT_TEMPFAIL || n >= sql_opts.retries)
			return result_fail(code, "connect", "cannot connect: %s%s", why,
			                   code == TR_EXIT_TEMPFAIL
			                           ? " (the server is unreachable; the task will be retried)"
			                           : "");
		long backoff = 1000L << (n < MAX_BACKOFF_SHIFT ? n : MAX_BACKOFF_SHIFT);
		log_warn("connect", "cannot connect (attempt %ld of %ld): %s; retrying in %ld ms", n + 1,
		         sql_opts.retries + 1, why, backoff);
		if (sig_wait_fd(-1, 0, clock_ms() + backoff, false) == SIG_WAKE_STOP)
			return sig_exit_code();
	}
}
