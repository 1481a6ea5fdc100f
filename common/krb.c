/* krb: ticket cache checks and keytab logins on MIT krb5. */
#include "krb.h"

#include <krb5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exitcode.h"

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

/* Walk the cache for the client's TGT. Returns 0 when found. */
static krb5_error_code find_tgt(krb5_context ctx, krb5_ccache cc, krb5_principal me, struct krb_ticket *t)
{
	krb5_cc_cursor cur;
	krb5_creds creds;
	krb5_error_code code = krb5_cc_start_seq_get(ctx, cc, &cur);
	if (code)
		return code;
	code = KRB5_CC_NOTFOUND;
	while (krb5_cc_next_cred(ctx, cc, &cur, &creds) == 0) {
		if (!krb5_is_config_principal(ctx, creds.server) && is_tgt_of(ctx, creds.server, me)) {
			fill_ticket(ctx, &creds, t);
			code = 0;
		}
		krb5_free_cred_contents(ctx, &creds);
		if (code == 0)
			break;
	}
	krb5_cc_end_seq_get(ctx, cc, &cur);
	return code;
}

int krb_ccache_inspect(const char *ccname, struct krb_ticket *t, char *err, size_t errlen)
{
	krb5_context ctx;
	krb5_ccache cc = NULL;
	krb5_principal me = NULL;
	char *name = NULL, msg[256];
	memset(t, 0, sizeof *t);
	krb5_error_code code = krb5_init_context(&ctx);
	if (code) {
		snprintf(err, errlen, "cannot initialise Kerberos (check KRB5_CONFIG): error %d", (int)code);
		return -1;
	}
	code = ccname ? krb5_cc_resolve(ctx, ccname, &cc) : krb5_cc_default(ctx, &cc);
	if (!code)
		code = krb5_cc_get_principal(ctx, cc, &me);
	if (!code)
		code = krb5_unparse_name(ctx, me, &name);
	if (!code) {
		snprintf(t->principal, sizeof t->principal, "%s", name);
		code = find_tgt(ctx, cc, me, t);
		if (code == KRB5_CC_NOTFOUND)
			snprintf(err, errlen, "the cache holds no ticket-granting ticket for %s", name);
	} else {
		krb_message(ctx, code, msg, sizeof msg);
		snprintf(err, errlen, "%s", msg);
	}
	krb5_free_unparsed_name(ctx, name);
	krb5_free_principal(ctx, me);
	if (cc)
		krb5_cc_close(ctx, cc);
	krb5_free_context(ctx);
	return code ? -1 : 0;
}

int krb_preflight(const char *ccname, long min_left, struct krb_ticket *t, char *err, size_t errlen)
{
	char why[512];
	const char *where = ccname ? ccname : getenv("KRB5CCNAME") ? getenv("KRB5CCNAME") : "the default cache";
	if (krb_ccache_inspect(ccname, t, why, sizeof why)) {
		snprintf(err, errlen,
			 "no usable Kerberos ticket in %s (%s); run kinit, mount the platform_kerberos_cache "
			 "volume with KRB5CCNAME=%s, or pass --keytab and --principal",
			 where, why, KRB_PLATFORM_CCACHE);
		return TR_EXIT_AUTH;
	}
	time_t now = time(NULL);
	if (t->end <= now + min_left) {
		char when[64];
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t->end));
		snprintf(err, errlen,
			 "the Kerberos ticket of %s in %s %s at %s; renew it (kinit -R, or check that "
			 "ticket-sharer is healthy) or pass --keytab and --principal",
			 t->principal, where, t->end <= now ? "expired" : "expires too soon", when);
		return TR_EXIT_AUTH;
	}
	return TR_EXIT_OK;
}

static int kinit_exit_code(krb5_error_code code)
{
	switch (code) {
	case KRB5_KDC_UNREACH:
	case KRB5_REALM_CANT_RESOLVE:
		return TR_EXIT_TEMPFAIL;
	case KRB5_PARSE_MALFORMED:
	case KRB5_CONFIG_BADFORMAT:
		return TR_EXIT_USAGE;
	default:
		return TR_EXIT_AUTH;
	}
}

static krb5_error_code kinit_into(krb5_context ctx, krb5_keytab kt, krb5_principal me, const char *ccname)
{
	krb5_creds creds;
	krb5_ccache cc = NULL;
	krb5_get_init_creds_opt *opt = NULL;
	memset(&creds, 0, sizeof creds);
	krb5_error_code code = krb5_get_init_creds_opt_alloc(ctx, &opt);
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

int krb_kinit_keytab(const char *keytab, const char *principal, const char *ccname, char *err, size_t errlen)
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
	code = krb5_parse_name(ctx, principal, &me);
	if (!code)
		code = keytab ? krb5_kt_resolve(ctx, keytab, &kt) : krb5_kt_client_default(ctx, &kt);
	if (!code)
		code = kinit_into(ctx, kt, me, ccname);
	int rc = TR_EXIT_OK;
	if (code) {
		krb_message(ctx, code, msg, sizeof msg);
		snprintf(err, errlen, "cannot get a Kerberos ticket for %s from keytab %s: %s", principal,
			 keytab ? keytab : "(default client keytab)", msg);
		rc = kinit_exit_code(code);
	} else {
		setenv("KRB5CCNAME", ccname, 1);
	}
	if (kt)
		krb5_kt_close(ctx, kt);
	krb5_free_principal(ctx, me);
	krb5_free_context(ctx);
	return rc;
}
