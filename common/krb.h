/* krb: the Kerberos part of the task contract, on MIT krb5.
 *
 * Runners honour KRB5CCNAME (FILE:, DIR:, MEMORY:), KRB5_CONFIG and KRB5_CLIENT_KTNAME. Without
 * KRB5CCNAME the platform's shared cache FILE:/krb5/cache/krb5cc is used when it exists (the
 * read-only volume platform_kerberos_cache, kept fresh by ticket-sharer). With a keytab and a
 * principal a ticket is fetched into a MEMORY: cache, which works on a read-only root.
 * Before connecting, krb_preflight() checks that a ticket exists, names a principal and has not
 * expired, so a missing ticket is exit 3 with the fix instead of an obscure GSSAPI error. */
#ifndef TR_KRB_H
#define TR_KRB_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define KRB_PLATFORM_CCACHE "FILE:/krb5/cache/krb5cc"

#define KRB_TKT_RENEWABLE 0x00800000 /* TKT_FLG_RENEWABLE, for code that does not include krb5.h */

struct krb_ticket {
	char principal[256]; /* the cache's default principal */
	char server[256];    /* the TGT's service: krbtgt/REALM@REALM */
	time_t start, end, renew_until;
	int32_t flags; /* TKT_FLG_* of the TGT */
};

/* Set KRB5CCNAME to the platform cache when it is unset and that file exists. */
void krb_use_platform_default(void);

/* TR_EXIT_OK when ccname holds a TGT valid for at least min_left seconds, else TR_EXIT_AUTH with
 * err saying what to run. */
int krb_preflight(const char *ccname, long min_left, struct krb_ticket *t, char *err, size_t errlen);

/* Get a TGT for principal from keytab (NULL: KRB5_CLIENT_KTNAME or the default) into the
 * MEMORY: cache ccname and point KRB5CCNAME at it. Returns TR_EXIT_OK, TR_EXIT_AUTH (the KDC
 * refused: wrong key, unknown principal), TR_EXIT_TEMPFAIL (KDC unreachable) or TR_EXIT_USAGE.
 * The KDC exchanges here and in krb_renew end at once on a stop signal with 128+N (err says so);
 * the caller must then exit, as libkrb5 may still finish that exchange on a worker thread. */
int krb_kinit_keytab(const char *keytab, const char *principal, const char *ccname, char *err, size_t errlen);

/* --- ticket lifecycle: full cache checks, copies, renewal (ticket-sharer, and any runner that keeps
 * a ticket alive for a long job) --- */

/* The ticket flags as words ("forwardable renewable initial pre_authent"), space separated. */
void krb_flags_str(int32_t flags, char *out, size_t len);

/* principal with every "_HOST" replaced by this machine's canonical host name in lower case (as
 * MIT's krb5_sname_to_principal does for service principals). Returns 0, or -1 when out is short. */
int krb_expand_host(const char *principal, char *out, size_t len);

/* The first principal in keytab (NULL: KRB5_CLIENT_KTNAME or the default client keytab).
 * Returns 0, or -1 with err. */
int krb_keytab_principal(const char *keytab, char *out, size_t len, char *err, size_t errlen);

/* A full check of ccname: every entry is read to the end, the cache names a principal (equal to
 * want when want is not NULL), holds a TGT for it, and the TGT is valid for at least min_left
 * seconds more. Returns TR_EXIT_OK, or TR_EXIT_AUTH with err saying what is wrong. */
int krb_ccache_check(const char *ccname, const char *want, long min_left, struct krb_ticket *t, char *err,
                     size_t errlen);

/* Replace dst with a copy of every entry of src (dst is initialised to src's principal). Fails,
 * leaving dst in an unspecified state, unless src could be read to its end. When key is not NULL
 * the copy also gets the cache config entry key=value (earlier entries with that key in src are
 * left out). Returns 0, or -1 with err. */
int krb_ccache_copy(const char *src, const char *dst, const char *key, const char *value, char *err, size_t errlen);

/* The cache config entry key of ccname into out. Returns 0, or -1 when there is none. */
int krb_ccache_config(const char *ccname, const char *key, char *out, size_t len);

struct krb_kinit_opts {
	const char *keytab;    /* NULL: KRB5_CLIENT_KTNAME or the default client keytab */
	const char *principal; /* already expanded */
	long lifetime;         /* seconds; 0: krb5.conf's ticket_lifetime */
	long renew_life;       /* seconds; 0: krb5.conf's renew_lifetime */
};

/* Like krb_kinit_keytab with lifetimes, into ccname (any type), without touching KRB5CCNAME. */
int krb_kinit_keytab_opts(const struct krb_kinit_opts *o, const char *ccname, char *err, size_t errlen);

/* Renew the TGT in ccname in place (krb5_get_renewed_creds). Returns TR_EXIT_OK, TR_EXIT_AUTH
 * (not renewable, past renew-until, refused), TR_EXIT_TEMPFAIL (KDC unreachable) or 128+N (a stop
 * signal, see above), with err. */
int krb_renew(const char *ccname, char *err, size_t errlen);

#endif
