/* krb: ticket cache checks, copies, keytab logins and renewal on MIT krb5. */
#include "krb.h"

#include <ctype.h>
#include <fcntl.h>
#include <krb5.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "exitcode.h"
#include "signals.h"

/* A ticket that starts later than this (Kerberos' default clock skew) is not valid yet. */
#define KRB_CLOCK_SKEW 300

void krb_use_platform_default(void)
{
	const char *path = KRB_PLATFORM_CCACHE + strlen("FILE:");
	if (!getenv("KRB5CCNAME") && access(path, F_OK) == 0)
		setenv("KRB5CCNAME", KRB_PLATFORM_CCACHE, 1);
}

static void krb_message(krb5_context ctx, krb5_error_code code, char *out, size_t len)
{
	const char *msg = krb5_get_error_message(ctx, code);
	snprintf(out, len, "%s", msg);
	krb5_free_error_message(ctx, msg);
}

static int is_tgt_of(krb5_context ctx, krb5_const_principal server, krb5_const_principal client)
{
	krb5_principal tgs = NULL;
	const krb5_data *realm = krb5_princ_realm(ctx, client);
	int yes = 0;
	if (krb5_build_principal_ext(ctx, &tgs, realm->length, realm->data, KRB5_TGS_NAME_SIZE, KRB5_TGS_NAME,
	                             realm->length, realm->data, 0) == 0)
		yes = krb5_principal_compare(ctx, server, tgs);
	krb5_free_principal(ctx, tgs);
	return yes;
}

static void fill_ticket(krb5_context ctx, const krb5_creds *c, struct krb_ticket *t)
{
	char *server = NULL;
	if (krb5_unparse_name(ctx, c->server, &server) == 0) {
		snprintf(t->server, sizeof t->server, "%s", server);
		krb5_free_unparsed_name(ctx, server);
	}
	t->start = c->times.starttime ? c->times.starttime : c->times.authtime;
	t->end = c->times.endtime;
	t->renew_until = c->times.renew_till;
	t->flags = c->ticket_flags;
}

/* Is creds a config entry (krb5_ccache_conf_data/KEY...) for key? */
static int is_config_key(krb5_context ctx, const krb5_creds *c, const char *key)
{
	if (!key || !krb5_is_config_principal(ctx, c->server) || krb5_princ_size(ctx, c->server) < 2)
		return 0;
	const krb5_data *k = krb5_princ_component(ctx, c->server, 1);
	return k->length == strlen(key) && memcmp(k->data, key, k->length) == 0;
}

/* The one walker of a cache. Read every entry of cc: keep the TGT of me with the latest end in t, and when dst is not
 * NULL store each entry (except config entries for skip) there. 0 only when the end was reached. */
static krb5_error_code walk_cache(krb5_context ctx, krb5_ccache cc, krb5_principal me, krb5_ccache dst,
                                  const char *skip, struct krb_ticket *t, int *found)
{
	krb5_cc_cursor cur;
	krb5_creds creds;
	krb5_error_code code = krb5_cc_start_seq_get(ctx, cc, &cur), step = 0;
	if (code)
		return code;
	*found = 0;
	while (!step && (code = krb5_cc_next_cred(ctx, cc, &cur, &creds)) == 0) {
		int config = krb5_is_config_principal(ctx, creds.server);
		if (!config && is_tgt_of(ctx, creds.server, me) && (!*found || creds.times.endtime > t->end)) {
			fill_ticket(ctx, &creds, t);
			*found = 1;
		}
		if (dst && !is_config_key(ctx, &creds, skip))
			step = krb5_cc_store_cred(ctx, dst, &creds);
		krb5_free_cred_contents(ctx, &creds);
	}
	krb5_cc_end_seq_get(ctx, cc, &cur);
	return step ? step : code == KRB5_CC_END ? 0 : code;
}

/* The one way a cache is opened: ccname (NULL: the default cache) and its principal. On error
 * fill err and return the code. */
static krb5_error_code open_cache(krb5_context ctx, const char *ccname, krb5_ccache *cc, krb5_principal *me, char *err,
                                  size_t errlen)
{
	char msg[256];
	krb5_error_code code = ccname ? krb5_cc_resolve(ctx, ccname, cc) : krb5_cc_default(ctx, cc);
	if (!code)
		code = krb5_cc_get_principal(ctx, *cc, me);
	if (code) {
		krb_message(ctx, code, msg, sizeof msg);
		snprintf(err, errlen, "cannot read %s: %s", ccname ? ccname : "the default cache", msg);
	}
	return code;
}

/* The principal and latest TGT of ccname (NULL: the default cache). Returns 0, or -1 with err
 * saying what is wrong (unreadable, no principal, no TGT). */
static int ccache_inspect(const char *ccname, struct krb_ticket *t, char *err, size_t errlen)
{
	krb5_context ctx;
	krb5_ccache cc = NULL;
	krb5_principal me = NULL;
	char *name = NULL, msg[256];
	int found = 0;
	memset(t, 0, sizeof *t);
	krb5_error_code code = krb5_init_context(&ctx);
	if (code) {
		snprintf(err, errlen, "cannot initialise Kerberos (check KRB5_CONFIG): error %d", (int)code);
		return -1;
	}
	code = open_cache(ctx, ccname, &cc, &me, msg, sizeof msg);
	if (!code && !(code = krb5_unparse_name(ctx, me, &name)))
		snprintf(t->principal, sizeof t->principal, "%s", name);
	if (!code && (code = walk_cache(ctx, cc, me, NULL, NULL, t, &found)))
		krb_message(ctx, code, msg, sizeof msg);
	if (!code && !found) {
		snprintf(msg, sizeof msg, "the cache holds no ticket-granting ticket for %s", name);
		code = KRB5_CC_NOTFOUND;
	}
	if (code)
		snprintf(err, errlen, "%s", msg);
	krb5_free_unparsed_name(ctx, name);
	krb5_free_principal(ctx, me);
	if (cc)
		krb5_cc_close(ctx, cc);
	krb5_free_context(ctx);
	return code ? -1 : 0;
}

/* Why t cannot be used for min_left more seconds (NULL: it can): expired, expiring too soon,
 * postdated and not yet validated, or not valid yet. */
static const char *ticket_unusable(const struct krb_ticket *t, long min_left, char *why, size_t len)
{
	time_t now = time(NULL);
	char when[64];
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(t->start > now ? &t->start : &t->end));
	if (t->end <= now)
		snprintf(why, len, "expired at %s", when);
	else if (t->end < now + min_left)
		snprintf(why, len, "expires at %s, in %lds (less than %lds)", when, (long)(t->end - now), min_left);
	else if (t->flags & TKT_FLG_INVALID)
		snprintf(why, len, "is postdated and not yet validated (kinit -v)");
	else if (t->start > now + KRB_CLOCK_SKEW)
		snprintf(why, len, "is not valid until %s", when);
	else
		return NULL;
	return why;
}

int krb_preflight(const char *ccname, long min_left, struct krb_ticket *t, char *err, size_t errlen)
{
	char why[512];
	const char *where = ccname ? ccname : getenv("KRB5CCNAME") ? getenv("KRB5CCNAME") : "the default cache";
	if (ccache_inspect(ccname, t, why, sizeof why)) {
		snprintf(err, errlen,
		         "no usable Kerberos ticket in %s (%s); run kinit, mount the platform_kerberos_cache "
		         "volume with KRB5CCNAME=%s, or pass --keytab and --principal",
		         where, why, KRB_PLATFORM_CCACHE);
		return TR_EXIT_AUTH;
	}
	if (ticket_unusable(t, min_left, why, sizeof why)) {
		snprintf(err, errlen,
		         "the Kerberos ticket of %s in %s %s; get a current one (kinit, kinit -R, or check that "
		         "ticket-sharer is healthy) or pass --keytab and --principal",
		         t->principal, where, why);
		return TR_EXIT_AUTH;
	}
	return TR_EXIT_OK;
}

static int kinit_exit_code(krb5_error_code code)
{
	switch (code) {
	case KRB5_KDC_UNREACH:
	case KRB5_REALM_CANT_RESOLVE: return TR_EXIT_TEMPFAIL;
	case KRB5_PARSE_MALFORMED:
	case KRB5_CONFIG_BADFORMAT: return TR_EXIT_USAGE;
	default: return TR_EXIT_AUTH;
	}
}

static krb5_error_code kinit_into(krb5_context ctx, krb5_keytab kt, krb5_principal me, const char *ccname,
                                  long lifetime, long renew_life)
{
	krb5_creds creds;
	krb5_ccache cc = NULL;
	krb5_get_init_creds_opt *opt = NULL;
	memset(&creds, 0, sizeof creds);
	krb5_error_code code = krb5_get_init_creds_opt_alloc(ctx, &opt);
	if (!code && lifetime > 0)
		krb5_get_init_creds_opt_set_tkt_life(opt, (krb5_deltat)lifetime);
	if (!code && renew_life > 0)
		krb5_get_init_creds_opt_set_renew_life(opt, (krb5_deltat)renew_life);
	if (!code)
		code = krb5_get_init_creds_keytab(ctx, &creds, me, kt, 0, NULL, opt);
	if (!code)
		code = krb5_cc_resolve(ctx, ccname, &cc);
	if (!code)
		code = krb5_cc_initialize(ctx, cc, me);
	if (!code)
		code = krb5_cc_store_cred(ctx, cc, &creds);
	if (cc)
		krb5_cc_close(ctx, cc); /* a MEMORY: cache lives on until destroyed */
	krb5_free_cred_contents(ctx, &creds);
	krb5_get_init_creds_opt_free(ctx, opt);
	return code;
}

static int kinit_keytab(const struct krb_kinit_opts *o, const char *ccname, char *err, size_t errlen)
{
	krb5_context ctx;
	krb5_keytab kt = NULL;
	krb5_principal me = NULL;
	char msg[256];
	krb5_error_code code = krb5_init_context(&ctx);
	if (code) {
		snprintf(err, errlen, "cannot initialise Kerberos (check KRB5_CONFIG): error %d", (int)code);
		return TR_EXIT_USAGE;
	}
	code = krb5_parse_name(ctx, o->principal, &me);
	if (!code)
		code = o->keytab ? krb5_kt_resolve(ctx, o->keytab, &kt) : krb5_kt_client_default(ctx, &kt);
	if (!code)
		code = kinit_into(ctx, kt, me, ccname, o->lifetime, o->renew_life);
	int rc = TR_EXIT_OK;
	if (code) {
		krb_message(ctx, code, msg, sizeof msg);
		snprintf(err, errlen, "cannot get a Kerberos ticket for %s from keytab %s: %s", o->principal,
		         o->keytab ? o->keytab : "(default client keytab)", msg);
		rc = kinit_exit_code(code);
	}
	if (kt)
		krb5_kt_close(ctx, kt);
	krb5_free_principal(ctx, me);
	krb5_free_context(ctx);
	return rc;
}

int krb_kinit_keytab(const char *keytab, const char *principal, const char *ccname, char *err, size_t errlen)
{
	struct krb_kinit_opts o = { .keytab = keytab, .principal = principal };
	int rc = krb_kinit_keytab_opts(&o, ccname, err, errlen);
	if (rc == TR_EXIT_OK)
		setenv("KRB5CCNAME", ccname, 1);
	return rc;
}

/* --- ticket lifecycle --- */

void krb_flags_str(int32_t flags, char *out, size_t len)
{
	static const struct {
		int32_t bit;
		const char *name;
	} names[] = {
		{ TKT_FLG_FORWARDABLE, "forwardable" },
		{ TKT_FLG_FORWARDED, "forwarded" },
		{ TKT_FLG_PROXIABLE, "proxiable" },
		{ TKT_FLG_PROXY, "proxy" },
		{ TKT_FLG_MAY_POSTDATE, "may_postdate" },
		{ TKT_FLG_POSTDATED, "postdated" },
		{ TKT_FLG_INVALID, "invalid" },
		{ TKT_FLG_RENEWABLE, "renewable" },
		{ TKT_FLG_INITIAL, "initial" },
		{ TKT_FLG_PRE_AUTH, "pre_authent" },
		{ TKT_FLG_HW_AUTH, "hw_authent" },
		{ TKT_FLG_TRANSIT_POLICY_CHECKED, "transit_checked" },
		{ TKT_FLG_OK_AS_DELEGATE, "ok_as_delegate" },
		{ TKT_FLG_ANONYMOUS, "anonymous" },
	};
	size_t used = 0;
	if (len)
		out[0] = '\0';
	for (size_t i = 0; i < sizeof names / sizeof *names && used < len; i++) {
		if (flags & names[i].bit) {
			int n = snprintf(out + used, len - used, "%s%s", used ? " " : "", names[i].name);
			used += n > 0 ? (size_t)n : 0;
		}
	}
}

static void host_name(char *out, size_t len)
{
	struct addrinfo hints, *ai = NULL;
	char host[256] = "localhost";
	gethostname(host, sizeof host - 1);
	memset(&hints, 0, sizeof hints);
	hints.ai_flags = AI_CANONNAME;
	hints.ai_family = AF_UNSPEC;
	const char *name = host;
	if (getaddrinfo(host, NULL, &hints, &ai) == 0 && ai && ai->ai_canonname)
		name = ai->ai_canonname;
	snprintf(out, len, "%s", name);
	for (char *p = out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (ai)
		freeaddrinfo(ai);
}

int krb_expand_host(const char *principal, char *out, size_t len)
{
	char host[256];
	const char *hit = strstr(principal, "_HOST");
	if (!hit)
		return snprintf(out, len, "%s", principal) < (int)len ? 0 : -1;
	host_name(host, sizeof host);
	size_t used = 0;
	for (const char *p = principal; *p;) {
		const char *piece = strncmp(p, "_HOST", 5) == 0 ? host : NULL;
		size_t n = piece ? strlen(host) : 1;
		if (used + n + 1 > len)
			return -1;
		memcpy(out + used, piece ? piece : p, n);
		used += n;
		p += piece ? 5 : 1;
	}
	out[used] = '\0';
	return 0;
}

int krb_keytab_principal(const char *keytab, char *out, size_t len, char *err, size_t errlen)
{
	krb5_context ctx;
	krb5_keytab kt = NULL;
	krb5_kt_cursor cur;
	krb5_keytab_entry entry;
	char *name = NULL, msg[256];
	if (krb5_init_context(&ctx)) {
		snprintf(err, errlen, "cannot initialise Kerberos (check KRB5_CONFIG)");
		return -1;
	}
	krb5_error_code code = keytab ? krb5_kt_resolve(ctx, keytab, &kt) : krb5_kt_client_default(ctx, &kt);
	if (!code)
		code = krb5_kt_start_seq_get(ctx, kt, &cur);
	if (!code) {
		code = krb5_kt_next_entry(ctx, kt, &entry, &cur);
		if (!code) {
			code = krb5_unparse_name(ctx, entry.principal, &name);
			krb5_free_keytab_entry_contents(ctx, &entry);
		}
		krb5_kt_end_seq_get(ctx, kt, &cur);
	}
	if (!code)
		snprintf(out, len, "%s", name);
	else {
		krb_message(ctx, code, msg, sizeof msg);
		snprintf(err, errlen, "cannot read a principal from keytab %s: %s", keytab ? keytab : "(default)", msg);
	}
	krb5_free_unparsed_name(ctx, name);
	if (kt)
		krb5_kt_close(ctx, kt);
	krb5_free_context(ctx);
	return code ? -1 : 0;
}

static int check_times(const char *ccname, long min_left, const struct krb_ticket *t, char *err, size_t errlen)
{
	char why[256];
	if (!ticket_unusable(t, min_left, why, sizeof why))
		return TR_EXIT_OK;
	snprintf(err, errlen, "the ticket of %s in %s %s", t->principal, ccname, why);
	return TR_EXIT_AUTH;
}

int krb_ccache_check(const char *ccname, const char *want, long min_left, struct krb_ticket *t, char *err,
                     size_t errlen)
{
	krb5_context ctx;
	krb5_ccache cc = NULL;
	krb5_principal me = NULL;
	char *name = NULL, msg[256];
	int found = 0, rc = TR_EXIT_AUTH;
	memset(t, 0, sizeof *t);
	if (krb5_init_context(&ctx)) {
		snprintf(err, errlen, "cannot initialise Kerberos (check KRB5_CONFIG)");
		return TR_EXIT_USAGE;
	}
	krb5_error_code code = open_cache(ctx, ccname, &cc, &me, err, errlen);
	if (!code && !(code = krb5_unparse_name(ctx, me, &name)))
		snprintf(t->principal, sizeof t->principal, "%s", name);
	if (!code && (code = walk_cache(ctx, cc, me, NULL, NULL, t, &found))) {
		krb_message(ctx, code, msg, sizeof msg);
		snprintf(err, errlen, "cannot read %s to its end: %s", ccname, msg);
	}
	if (!code && want && strcmp(want, name) != 0)
		snprintf(err, errlen, "%s holds a ticket for %s, not for %s", ccname, name, want);
	else if (!code && !found)
		snprintf(err, errlen, "%s holds no ticket-granting ticket for %s", ccname, name);
	else if (!code)
		rc = check_times(ccname, min_left, t, err, errlen);
	krb5_free_unparsed_name(ctx, name);
	krb5_free_principal(ctx, me);
	if (cc)
		krb5_cc_close(ctx, cc);
	krb5_free_context(ctx);
	return rc;
}

int krb_ccache_copy(const char *src, const char *dst, const char *key, const char *value, char *err, size_t errlen)
{
	krb5_context ctx;
	krb5_ccache in = NULL, out = NULL;
	krb5_principal me = NULL;
	struct krb_ticket t;
	char msg[256];
	int found;
	if (krb5_init_context(&ctx)) {
		snprintf(err, errlen, "cannot initialise Kerberos (check KRB5_CONFIG)");
		return -1;
	}
	krb5_error_code code = open_cache(ctx, src, &in, &me, err, errlen);
	if (!code) {
		code = krb5_cc_resolve(ctx, dst, &out);
		if (!code)
			code = krb5_cc_initialize(ctx, out, me);
		if (!code)
			code = walk_cache(ctx, in, me, out, key, &t, &found);
		if (!code && key) {
			krb5_data d = { .magic = 0, .length = (unsigned)strlen(value), .data = (char *)value };
			code = krb5_cc_set_config(ctx, out, NULL, key, &d);
		}
		if (code) {
			krb_message(ctx, code, msg, sizeof msg);
			snprintf(err, errlen, "cannot copy %s to %s: %s", src, dst, msg);
		}
	}
	krb5_free_principal(ctx, me);
	if (in)
		krb5_cc_close(ctx, in);
	if (out)
		krb5_cc_close(ctx, out);
	krb5_free_context(ctx);
	return code ? -1 : 0;
}

int krb_ccache_config(const char *ccname, const char *key, char *out, size_t len)
{
	krb5_context ctx;
	krb5_ccache cc = NULL;
	krb5_principal me = NULL;
	krb5_data d = { 0 };
	char err[256];
	if (krb5_init_context(&ctx))
		return -1;
	krb5_error_code code = open_cache(ctx, ccname, &cc, &me, err, sizeof err);
	if (!code)
		code = krb5_cc_get_config(ctx, cc, NULL, key, &d);
	if (!code)
		snprintf(out, len, "%.*s", (int)d.length, d.data);
	krb5_free_data_contents(ctx, &d);
	krb5_free_principal(ctx, me);
	if (cc)
		krb5_cc_close(ctx, cc);
	krb5_free_context(ctx);
	return code ? -1 : 0;
}

static int renew_exit_code(krb5_error_code code)
{
	return code == KRB5_KDC_UNREACH || code == KRB5_REALM_CANT_RESOLVE ? TR_EXIT_TEMPFAIL : TR_EXIT_AUTH;
}

static int renew(const char *ccname, char *err, size_t errlen)
{
	krb5_context ctx;
	krb5_ccache cc = NULL;
	krb5_principal me = NULL;
	krb5_creds creds;
	char msg[256];
	memset(&creds, 0, sizeof creds);
	if (krb5_init_context(&ctx)) {
		snprintf(err, errlen, "cannot initialise Kerberos (check KRB5_CONFIG)");
		return TR_EXIT_USAGE;
	}
	krb5_error_code code = open_cache(ctx, ccname, &cc, &me, err, errlen);
	if (!code) {
		code = krb5_get_renewed_creds(ctx, &creds, me, cc, NULL);
		if (!code)
			code = krb5_cc_initialize(ctx, cc, me);
		if (!code)
			code = krb5_cc_store_cred(ctx, cc, &creds);
		if (code) {
			krb_message(ctx, code, msg, sizeof msg);
			snprintf(err, errlen, "cannot renew the ticket in %s: %s", ccname, msg);
		}
	}
	int rc = code ? renew_exit_code(code) : TR_EXIT_OK;
	krb5_free_cred_contents(ctx, &creds);
	krb5_free_principal(ctx, me);
	if (cc)
		krb5_cc_close(ctx, cc);
	krb5_free_context(ctx);
	return rc;
}

/* --- KDC exchanges that a stop signal ends at once ---
 * libkrb5 waits for a KDC inside its own poll loop and retries on EINTR, so a KDC that takes the
 * connection and never answers holds a caller for the whole libkrb5 timeout. The exchange runs on
 * a worker thread instead, while the caller waits in sig_wait_fd. On a stop the caller returns
 * 128+N at once and must exit: the worker is left to finish on its own context and cache (it
 * never touches what the caller publishes). The job is shared; the last side to let go frees it. */

struct kdc_job {
	int (*work)(struct kdc_job *j);
	struct krb_kinit_opts opts;
	char keytab[4096], principal[1024], ccname[1024], err[2048];
	int rc, fds[2];
	atomic_int refs;
};

static int kdc_job_kinit(struct kdc_job *j)
{
	return kinit_keytab(&j->opts, j->ccname, j->err, sizeof j->err);
}

static int kdc_job_renew(struct kdc_job *j)
{
	return renew(j->ccname, j->err, sizeof j->err);
}

static void kdc_job_release(struct kdc_job *j)
{
	if (atomic_fetch_sub(&j->refs, 1) == 1) {
		for (int i = 0; i < 2; i++)
			if (j->fds[i] >= 0)
				close(j->fds[i]);
		free(j);
	}
}

static void *kdc_job_thread(void *arg)
{
	struct kdc_job *j = arg;
	j->rc = j->work(j);
	(void)!write(j->fds[1], "", 1);
	kdc_job_release(j);
	return NULL;
}

/* Start the worker with the stop signals blocked, so their handler runs on the waiting thread. */
static int kdc_job_start(struct kdc_job *j, pthread_t *th)
{
	sigset_t stops, old;
	sigemptyset(&stops);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGHUP);
	sigaddset(&stops, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, &stops, &old);
	int e = pthread_create(th, NULL, kdc_job_thread, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return e;
}

/* Run j (malloc'd, refs unset) and take it over. Returns its result, or 128+N with err on a stop. */
static int kdc_job_run(struct kdc_job *j, char *err, size_t errlen)
{
	pthread_t th;
	int rc;
	j->fds[0] = j->fds[1] = -1;
	atomic_init(&j->refs, 2);
	if (sig_caught() || pipe2(j->fds, O_CLOEXEC) || kdc_job_start(j, &th)) {
		if (sig_caught())
			snprintf(err, errlen, "stopped by signal %d before asking the KDC", sig_caught());
		else
			snprintf(err, errlen, "cannot start a thread for the KDC exchange");
		atomic_init(&j->refs, 1);
		kdc_job_release(j); /* closes the pipe when it was made */
		return sig_caught() ? sig_exit_code() : TR_EXIT_TEMPFAIL;
	}
	if (sig_wait_fd(j->fds[0], POLLIN, SIG_NO_DEADLINE, false) == SIG_WAKE_STOP) {
		pthread_detach(th);
		rc = sig_exit_code();
		snprintf(err, errlen, "stopped by signal %d while waiting for the KDC", sig_caught());
	} else {
		pthread_join(th, NULL);
		rc = j->rc;
		snprintf(err, errlen, "%s", j->err);
	}
	kdc_job_release(j);
	return rc;
}

int krb_kinit_keytab_opts(const struct krb_kinit_opts *o, const char *ccname, char *err, size_t errlen)
{
	struct kdc_job *j = calloc(1, sizeof *j);
	if (!j || snprintf(j->principal, sizeof j->principal, "%s", o->principal) >= (int)sizeof j->principal ||
	    snprintf(j->keytab, sizeof j->keytab, "%s", o->keytab ? o->keytab : "") >= (int)sizeof j->keytab ||
	    snprintf(j->ccname, sizeof j->ccname, "%s", ccname) >= (int)sizeof j->ccname) {
		free(j);
		snprintf(err, errlen, "principal, keytab or cache name too long (or out of memory)");
		return TR_EXIT_USAGE;
	}
	j->opts = *o;
	j->opts.principal = j->principal;
	j->opts.keytab = o->keytab ? j->keytab : NULL;
	j->work = kdc_job_kinit;
	return kdc_job_run(j, err, errlen);
}

int krb_renew(const char *ccname, char *err, size_t errlen)
{
	struct kdc_job *j = calloc(1, sizeof *j);
	if (!j || snprintf(j->ccname, sizeof j->ccname, "%s", ccname) >= (int)sizeof j->ccname) {
		free(j);
		snprintf(err, errlen, "cache name too long (or out of memory)");
		return TR_EXIT_USAGE;
	}
	j->work = kdc_job_renew;
	return kdc_job_run(j, err, errlen);
}
