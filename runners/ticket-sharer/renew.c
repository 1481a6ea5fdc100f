/* renew: keep a ticket from a keytab published at the target.
 *
 * The ticket lives in a MEMORY: cache of this process; every new or renewed ticket is published
 * as a copy (publish.c). It is renewed when --renew-at of its lifetime has passed; when it cannot
 * be renewed any more (not renewable, or renew-until reached) a new one comes from the keytab. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "exitcode.h"
#include "log.h"
#include "result.h"
#include "sharer.h"
#include "signals.h"

#define MEM_CCACHE "MEMORY:ticket-sharer"
#define RETRY_MS   30000L /* after a failed renewal or login, try again this soon */

struct renew {
	struct target tgt;
	struct krb_kinit_opts kinit;
	char principal[512], origin[4400];
	struct krb_ticket tk; /* the ticket in the MEMORY: cache */
	ino_t ino;            /* of the published file */
	int percent;          /* --renew-at */
	long renewals, logins;
};

static int parse_percent(const char *s, int *out)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || (*end && strcmp(end, "%") != 0))
		return -1;
	if (!*end && v > 0 && v < 1)
		v *= 100; /* 0.8 means 80% */
	if (v < 1 || v > 99)
		return -1;
	*out = (int)v;
	return 0;
}

static int publish(struct renew *r, const char *event)
{
	char err[2048];
	struct krb_ticket tk;
	int rc = publish_ccache(&r->tgt, MEM_CCACHE, r->principal, r->origin, &tk, err, sizeof err);
	if (rc)
		return result_fail(rc, "publish", "cannot publish the ticket of %s: %s", r->principal, err);
	r->ino = target_inode(&r->tgt);
	ts_log_ticket(event, &tk, r->origin, r->tgt.path, ts_opts.warn_before_ms);
	return TR_EXIT_OK;
}

/* Read back the ticket in the MEMORY: cache. */
static int load(struct renew *r)
{
	char err[1024];
	int rc = krb_ccache_check(MEM_CCACHE, r->principal, 0, &r->tk, err, sizeof err);
	return rc ? result_fail(rc, "ticket", "%s", err) : TR_EXIT_OK;
}

static int login(struct renew *r, const char *why)
{
	char err[2048];
	int rc = krb_kinit_keytab_opts(&r->kinit, MEM_CCACHE, err, sizeof err);
	if (rc) {
		if (sig_caught())
			return result_fail(sig_exit_code(), "stopped", "%s", err);
		if (rc == TR_EXIT_TEMPFAIL)
			log_warn("kdc_unreachable", "%s; retrying in %lds", err, RETRY_MS / 1000);
		return rc == TR_EXIT_TEMPFAIL ? rc : result_fail(rc, "login", "%s", err);
	}
	r->logins++;
	log_info("login", "got a new ticket for %s from the keytab (%s)", r->principal, why);
	return (rc = load(r)) ? rc : publish(r, "published");
}

/* Why the ticket cannot be renewed, or NULL when it can. */
static const char *unrenewable(const struct krb_ticket *tk)
{
	if (!(tk->flags & KRB_TKT_RENEWABLE))
		return "the ticket is not renewable";
	if (tk->renew_until <= tk->end || tk->renew_until <= time(NULL))
		return "renew-until is reached";
	return NULL;
}

static int refresh(struct renew *r)
{
	char err[2048];
	const char *why = unrenewable(&r->tk);
	if (why)
		return login(r, why);
	int rc = krb_renew(MEM_CCACHE, err, sizeof err);
	if (sig_caught())
		return result_fail(sig_exit_code(), "stopped", "%s", err);
	if (rc == TR_EXIT_OK && load(r) == TR_EXIT_OK) {
		r->renewals++;
		return publish(r, "renewed");
	}
	if (rc != TR_EXIT_OK)
		log_warn("renew_failed", "%s; getting a new ticket from the keytab", err);
	return login(r, "renewal failed");
}

/* Milliseconds until the ticket is due for renewal. */
static long due_in(const struct renew *r)
{
	double at = (double)r->tk.start + (double)(r->tk.end - r->tk.start) * r->percent / 100.0;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	double ms = (at - (double)now.tv_sec) * 1000.0 - (double)now.tv_nsec / 1e6;
	return ms < 0 ? 0 : (long)ms;
}

static int renew_loop(struct renew *r)
{
	long retry = 0;
	for (;;) {
		long wait = retry ? RETRY_MS : due_in(r);
		if (wait > ts_opts.interval_ms)
			wait = ts_opts.interval_ms;
		if (watch_wait(wait, 0) == WAKE_STOP)
			return sig_exit_code();
		int rc = TR_EXIT_OK;
		if (retry || due_in(r) == 0)
			rc = r->tk.end > time(NULL) && !retry ? refresh(r) : login(r, "the last attempt failed");
		else if (target_inode(&r->tgt) != r->ino)
			rc = publish(r, "republished"); /* someone removed or replaced it */
		if (sig_caught())
			return sig_exit_code();
		retry = rc != TR_EXIT_OK;
	}
}

static int setup(struct renew *r)
{
	char err[1024], raw[512];
	int rc = target_parse(ts_opts.target, ts_opts.mode, ts_opts.group, &r->tgt, err, sizeof err);
	if (rc)
		return result_fail(rc, "config", "%s", err);
	if (parse_percent(ts_opts.renew_at, &r->percent))
		return result_fail(TR_EXIT_USAGE, "config", "--renew-at %s: give a percentage between 1%% and 99%%",
		                   ts_opts.renew_at);
	const char *keytab = ts_opts.keytab && *ts_opts.keytab ? ts_opts.keytab : getenv("KRB5_CLIENT_KTNAME");
	if (ts_opts.principal && *ts_opts.principal)
		snprintf(raw, sizeof raw, "%s", ts_opts.principal);
	else if (krb_keytab_principal(keytab, raw, sizeof raw, err, sizeof err))
		return result_fail(TR_EXIT_USAGE, "config", "%s; pass --principal", err);
	if (krb_expand_host(raw, r->principal, sizeof r->principal))
		return result_fail(TR_EXIT_USAGE, "config", "--principal %s is too long", raw);
	r->kinit = (struct krb_kinit_opts){ keytab, r->principal, ts_opts.lifetime_ms / 1000,
		                            ts_opts.renew_life_ms / 1000 };
	snprintf(r->origin, sizeof r->origin, "keytab %s", keytab ? keytab : "(default client keytab)");
	return TR_EXIT_OK;
}

static void stop(struct renew *r)
{
	if (ts_opts.destroy_on_exit && r->ino && target_inode(&r->tgt) == r->ino) {
		if (unlink(r->tgt.path) == 0)
			log_info("destroyed", "removed the published ticket %s", r->tgt.path);
		else
			log_warn("destroy_failed", "cannot remove %s", r->tgt.path);
	}
	log_info("stopped", "stopped after %ld renewal(s) and %ld login(s)", r->renewals, r->logins);
}

int ts_cmd_renew(const struct cmd *cmd, int argc, char **argv)
{
	struct strlist rest = { 0 };
	struct renew r;
	memset(&r, 0, sizeof r);
	int rc = cli_parse(cmd, argc, argv, &rest);
	if (rc == 0 && rest.len)
		rc = result_fail(TR_EXIT_USAGE, "usage", "%s takes no arguments; see --help", cmd->name);
	strlist_free(&rest);
	if (rc || (rc = setup(&r)))
		return rc;
	while ((rc = login(&r, "start")) == TR_EXIT_TEMPFAIL && !ts_opts.once)
		if (watch_wait(RETRY_MS, 0) == WAKE_STOP) {
			rc = sig_exit_code();
			break;
		}
	if (rc == TR_EXIT_TEMPFAIL)
		return result_fail(rc, "login", "the KDC did not answer");
	if (rc == TR_EXIT_OK && !ts_opts.once)
		rc = renew_loop(&r);
	if (!ts_opts.once || rc)
		stop(&r);
	cJSON *res = result_object();
	cJSON_AddNumberToObject(res, "renewals", (double)r.renewals);
	cJSON_AddNumberToObject(res, "logins", (double)r.logins);
	if (r.tk.end)
		ts_ticket_json(&r.tk, res);
	return rc;
}
