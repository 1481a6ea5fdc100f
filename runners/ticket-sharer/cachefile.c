/* cachefile: reading a cache file and checking it completely: the strict parser (ccfile.c), then
 * libkrb5 (principal, TGT, lifetime). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exitcode.h"
#include "fsutil.h"
#include "sharer.h"

/* Why path cannot be read, with the fix for the common case of a cache owned by someone else. */
static void read_error(const char *path, int rc, char *err, size_t errlen)
{
	struct stat st;
	if (rc == EACCES && stat(path, &st) == 0) {
		snprintf(err, errlen,
		         "cannot read %s: permission denied (owner uid %ld, mode %04o; this process runs as uid %ld "
		         "gid %ld); run the sharer as the cache's owner (compose: TINYRUN_HOST_UID=%ld)",
		         path, (long)st.st_uid, (unsigned)(st.st_mode & 07777), (long)getuid(), (long)getgid(),
		         (long)st.st_uid);
	} else if (rc == ENOENT) {
		snprintf(err, errlen, "%s does not exist", path);
	} else {
		snprintf(err, errlen, "cannot read %s: %s", path,
		         rc == EFBIG ? "too big for a ticket cache" : strerror(rc));
	}
}

int cachefile_read(const char *path, char **data, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	/* a FIFO or device would block the read (a silent writer) and no stop signal ends it */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s is not a regular file, so it is no ticket cache", path);
		return TR_EXIT_AUTH;
	}
	int rc = fs_read_file(path, TS_MAX_CACHE, data, len);
	if (rc) {
		read_error(path, rc, err, errlen);
		return TR_EXIT_AUTH;
	}
	return TR_EXIT_OK;
}

int cachefile_check(const char *path, const char *want, long min_left, struct krb_ticket *tk, char *err, size_t errlen)
{
	char *data = NULL, why[512];
	size_t len = 0, entries;
	memset(tk, 0, sizeof *tk);
	int rc = cachefile_read(path, &data, &len, err, errlen);
	if (rc == TR_EXIT_OK && ccfile_parse((unsigned char *)data, len, &entries, why, sizeof why)) {
		snprintf(err, errlen, "%s: %s", path, why);
		rc = TR_EXIT_AUTH;
	}
	free(data);
	if (rc == TR_EXIT_OK) {
		char name[4200];
		snprintf(name, sizeof name, "FILE:%s", path);
		rc = krb_ccache_check(name, want, min_left, tk, err, errlen);
	}
	return rc;
}
