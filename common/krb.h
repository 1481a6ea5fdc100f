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

struct krb_ticket {
	char principal[256]; /* the cache's default principal */
	char server[256];    /* the TGT's service: krbtgt/REALM@REALM */
	time_t start, end, renew_until;
	int32_t flags;       /* TKT_FLG_* of the TGT */
};

/* Set KRB5CCNAME to the platform cache when it is unset and that file exists. */
void krb_use_platform_default(void);

/* The principal and TGT of ccname (NULL: the default cache). Returns 0, or -1 with err saying
 * what is wrong (unreadable, no principal, no TGT). */
int krb_ccache_inspect(const char *ccname, struct krb_ticket *t, char *err, size_t errlen);

/* TR_EXIT_OK when ccname holds a TGT valid for at least min_left seconds, else TR_EXIT_AUTH with
 * err saying what to run. */
int krb_preflight(const char *ccname, long min_left, struct krb_ticket *t, char *err, size_t errlen);

/* Get a TGT for principal from keytab (NULL: KRB5_CLIENT_KTNAME or the default) into the
 * MEMORY: cache ccname and point KRB5CCNAME at it. Returns TR_EXIT_OK, TR_EXIT_AUTH (the KDC
 * refused: wrong key, unknown principal), TR_EXIT_TEMPFAIL (KDC unreachable) or TR_EXIT_USAGE. */
int krb_kinit_keytab(const char *keytab, const char *principal, const char *ccname, char *err, size_t errlen);

#endif
