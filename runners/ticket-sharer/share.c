/* share: follow a source ticket cache and keep a validated copy published at the target.
 *
 * Each round picks the source's cache file, and when its bytes differ from what was last
 * published (or the published file was removed or replaced) publishes them. A source that is
 * missing, unreadable, truncated, expired or for the wrong principal is never published: the
 * last good ticket stays, and the log says how long it remains valid and what to run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "exitcode.h"
#include "log.h"
#include "result.h"
#include "sharer.h"
#include "signals.h"

struct share {
	struct source src;
	struct target tgt;
	struct krb_ticket good; /* what the target holds, when have_good */
	int have_good;
	uint64_t hash; /* of the last published source bytes and their path */
	ino_t ino;     /* of the published file */
	long published;
	char last_err[2048]; /* why the last round published nothing */
};

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

/* The command that gets a ticket where this sharer looks for one (into out). */
static void kinit_hint(const struct share *s, struct buf *out)
{
	const char *where = ts_opts.host_path && *ts_opts.host_path ? ts_opts.host_path : NULL;
	const char *home = where && strncmp(where, "~/", 2) == 0 ? "$HOME" : ""; /* no ~ expansion after FILE: */
	const char *rest = where && *home ? where + 1 : where;
	if (where)
		buf_printf(out,
		           "on the host run `mkdir -p %s%s && kinit -c FILE:%s%s/krb5cc YOUR_PRINCIPAL` (%s%s is "
		           "mounted at %s)",
		           home, rest, home, rest, home, rest, s->src.kind == SRC_FILE ? s->src.watch : s->src.path);
	else if (s->src.kind == SRC_FOLDER)
		buf_printf(out, "run `kinit -c FILE:%s/krb5cc YOUR_PRINCIPAL`", s->src.path);
	else if (s->src.kind == SRC_DIR)
		buf_printf(out, "run `KRB5CCNAME=DIR:%s kinit YOUR_PRINCIPAL`", s->src.path);
	else
		buf_printf(out, "run `kinit -c FILE:%s YOUR_PRINCIPAL`", s->src.path);
}

/* Nothing new can be published: say why, and what happens to the published ticket. */
static void report_bad(const struct share *s, const char *why)
{
	struct buf hint = BUF_INIT;
	char when[64];
	long left = s->have_good ? (long)(s->good.end - time(NULL)) : 0;
	if (s->have_good)
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&s->good.end));
	kinit_hint(s, &hint);
	cJSON *f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "reason", why);
	cJSON_AddStringToObject(f, "target", s->tgt.path);
	if (s->have_good && left > 0) {
		cJSON_AddStringToObject(f, "principal", s->good.principal);
		cJSON_AddNumberToObject(f, "left_s", (double)left);
		log_event(ts_opts.once ? LOG_LEVEL_ERROR : LOG_LEVEL_WARN, "kept", f,
		          "not publishing: %s; keeping the last good ticket of %s, valid until %s (%ldm%02lds left); "
		          "to refresh it %s",
		          why, s->good.principal, when, left / 60, left % 60, buf_str(&hint));
	} else if (s->have_good) {
		log_event(LOG_LEVEL_ERROR, "expired", f,
		          "not publishing: %s; the published ticket of %s expired at %s; to get a new one %s", why,
		          s->good.principal, when, buf_str(&hint));
	} else {
		log_event(LOG_LEVEL_ERROR, "no_ticket", f, "no ticket published yet: %s; to fix it %s", why,
		          buf_str(&hint));
	}
	buf_free(&hint);
}

static void warn_if_short(const struct share *s)
{
	long left = (long)(s->good.end - time(NULL));
	if (s->have_good && left > 0 && left * 1000 < ts_opts.warn_before_ms) {
		struct buf hint = BUF_INIT;
		kinit_hint(s, &hint);
		log_warn("expiring", "the published ticket of %s expires in %ldm%02lds; renew it: %s",
		         s->good.principal, left / 60, left % 60, buf_str(&hint));
		buf_free(&hint);
	}
}

/* One round. Returns TR_EXIT_OK when the target holds a current ticket from the source. */
static int share_round(struct share *s)
{
	char file[4400], err[2048], *data = NULL;
	size_t len = 0;
	struct krb_ticket tk;
	watch_update(&s->src);
	int rc = source_pick(&s->src, ts_opts.principal, file, sizeof file, err, sizeof err);
	if (rc == TR_EXIT_OK)
		rc = cachefile_read(file, &data, &len, err, sizeof err);
	uint64_t hash = rc == TR_EXIT_OK ? fnv1a(fnv1a(14695981039346656037ULL, file, strlen(file)), data, len) : 0;
	if (rc == TR_EXIT_OK && s->have_good && hash == s->hash && target_inode(&s->tgt) == s->ino) {
		log_debug("unchanged", "%s is unchanged since it was published", file);
	} else if (rc == TR_EXIT_OK) {
		rc = publish_bytes(&s->tgt, data, len, ts_opts.principal, file, &tk, err, sizeof err);
		if (rc == TR_EXIT_OK) {
			s->good = tk;
			s->have_good = 1;
			s->hash = hash;
			s->ino = target_inode(&s->tgt);
			s->published++;
			ts_log_ticket("published", &tk, file, s->tgt.path, ts_opts.warn_before_ms);
		}
	}
	free(data);
	snprintf(s->last_err, sizeof s->last_err, "%s", rc != TR_EXIT_OK ? err : "");
	if (rc != TR_EXIT_OK)
		report_bad(s, err);
	else
		warn_if_short(s);
	return rc;
}

/* A valid ticket already at the target (a restart) counts as the last good one. */
static void adopt_target(struct share *s)
{
	char err[1024];
	if (cachefile_check(s->tgt.path, ts_opts.principal, 0, &s->good, err, sizeof err) == TR_EXIT_OK) {
		s->have_good = 1;
		ts_log_ticket("found", &s->good, s->tgt.path, s->tgt.path, 0);
	}
}

/* How long to sleep: the interval, but wake when the published ticket expires. */
static long next_wait(const struct share *s)
{
	long wait = ts_opts.interval_ms;
	long to_end = s->have_good ? (long)(s->good.end - time(NULL)) * 1000 + 1000 : 0;
	return to_end > 0 && to_end < wait ? to_end : wait;
}

static int share_loop(struct share *s)
{
	int rc = share_round(s);
	if (ts_opts.once) {
		if (rc)
			cJSON_AddStringToObject(result_object(), "error", s->last_err);
		return rc;
	}
	log_info("watching", "following %s every %lds and on change; stop with SIGTERM", s->src.path,
	         ts_opts.interval_ms / 1000);
	for (;;) {
		enum wake w = watch_wait(next_wait(s), ts_opts.settle_ms);
		if (w == WAKE_STOP)
			break;
		log_debug("wake", "%s", w == WAKE_CHANGE ? "the source changed" : "interval");
		share_round(s);
	}
	log_info("stopped", "stopped after publishing %ld time(s); the published ticket stays", s->published);
	return sig_exit_code();
}

int ts_cmd_share(const struct cmd *cmd, int argc, char **argv)
{
	struct strlist rest = { 0 };
	struct share s;
	char err[2048];
	memset(&s, 0, sizeof s);
	int rc = cli_parse(cmd, argc, argv, &rest);
	if (rc == 0 && rest.len)
		rc = result_fail(TR_EXIT_USAGE, "usage", "%s takes no arguments; see --help", cmd->name);
	strlist_free(&rest);
	if (rc)
		return rc;
	if (ts_opts.principal && !*ts_opts.principal)
		ts_opts.principal = NULL; /* TINYRUN_PRINCIPAL= (empty) means none */
	if ((rc = source_parse(ts_opts.source, &s.src, err, sizeof err)) ||
	    (rc = target_parse(ts_opts.target, ts_opts.mode, ts_opts.group, &s.tgt, err, sizeof err)))
		return result_fail(rc, "config", "%s", err);
	adopt_target(&s);
	rc = share_loop(&s);
	watch_close();
	cJSON *r = result_object();
	cJSON_AddNumberToObject(r, "published", (double)s.published);
	if (s.have_good)
		ts_ticket_json(&s.good, r);
	return rc;
}
