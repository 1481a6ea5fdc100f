/* publish: atomically replace the published cache with a validated one.
 *
 * A new cache is written by libkrb5 to a temporary name next to the target (same filesystem),
 * given its group and mode, flushed, checked strictly (every byte parsed, principal, TGT, not
 * expired) and only then renamed over the target. A reader opening the target therefore sees
 * the old complete cache or the new complete cache, never a mix, and a bad source can never
 * replace a good published ticket. The cache records where it came from in the config entry
 * TS_CONFIG_KEY (for `status`); libkrb5 and GSSAPI ignore config entries. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exitcode.h"
#include "fsutil.h"
#include "sharer.h"

int target_parse(const char *spec, const char *mode, const char *group, struct target *t, char *err, size_t errlen)
{
	char *end;
	memset(t, 0, sizeof *t);
	if (strncmp(spec, "FILE:", 5) == 0)
		spec += 5;
	if (!*spec || strchr(spec, ':') || strlen(spec) >= sizeof t->path) {
		snprintf(err, errlen, "--target %s: give a file path (FILE:PATH)", spec);
		return TR_EXIT_USAGE;
	}
	snprintf(t->path, sizeof t->path, "%s", spec);
	long m = strtol(mode, &end, 8);
	if (*end || end == mode || m < 0 || m > 0777 || (m & 0400) == 0) {
		snprintf(err, errlen, "--mode %s: give octal permissions such as 0640 (the owner must read)", mode);
		return TR_EXIT_USAGE;
	}
	t->mode = (mode_t)m;
	t->gid = (gid_t)-1;
	if (group && *group) {
		long g = strtol(group, &end, 10);
		struct group *gr = *end ? getgrnam(group) : NULL;
		if (*end && !gr) {
			snprintf(err, errlen, "--group %s: no such group in /etc/group; give a number", group);
			return TR_EXIT_USAGE;
		}
		t->gid = gr ? gr->gr_gid : (gid_t)g;
	}
	return TR_EXIT_OK;
}

ino_t target_inode(const struct target *t)
{
	struct stat st;
	return stat(t->path, &st) == 0 ? st.st_ino : 0;
}

/* Group, mode and fsync of the finished temporary file. Returns 0 or an errno value. */
static int seal(const struct target *t, const char *tmp)
{
	int fd = open(tmp, O_RDONLY | O_CLOEXEC), rc = 0;
	if (fd < 0)
		return errno;
	if (t->gid != (gid_t)-1 && fchown(fd, (uid_t)-1, t->gid) < 0)
		rc = errno;
	if (!rc && fchmod(fd, t->mode) < 0)
		rc = errno;
	if (!rc && fsync(fd) < 0)
		rc = errno;
	close(fd);
	return rc;
}

static int folder_error(const struct target *t, const char *what, int e, char *err, size_t errlen)
{
	snprintf(err, errlen, "cannot %s next to %s: %s (the folder must be writable by uid %ld gid %ld)", what,
	         t->path, strerror(e), (long)getuid(), (long)getgid());
	return TR_EXIT_FAILED;
}

/* Messages name the cache a user knows (origin), not our temporary files. */
static void rename_in_message(char *err, size_t errlen, const char *tmp, const char *origin)
{
	char out[1024], *hit;
	size_t used = 0, n = strlen(tmp);
	for (const char *p = err; *p && used + 1 < sizeof out;) {
		hit = strstr(p, tmp);
		size_t keep = hit ? (size_t)(hit - p) : strlen(p);
		used += (size_t)snprintf(out + used, sizeof out - used, "%.*s%s", (int)keep, p, hit ? origin : "");
		p += keep + (hit ? n : 0);
		if (used >= sizeof out)
			used = sizeof out - 1;
	}
	out[used] = '\0';
	snprintf(err, errlen, "%s", out);
}

static int folder_writable(const struct target *t, char *err, size_t errlen)
{
	char copy[4096];
	snprintf(copy, sizeof copy, "%s", t->path);
	return access(dirname(copy), W_OK) == 0 ? 0 : folder_error(t, "write", errno, err, errlen);
}

int publish_ccache(const struct target *t, const char *ccname, const char *want, const char *origin,
                   struct krb_ticket *tk, char *err, size_t errlen)
{
	char tmp[4200], name[4300];
	struct atomic_file f;
	int rc = folder_writable(t, err, errlen), e;
	if (rc)
		return rc;
	if ((e = atomic_open(&f, t->path, 0600, (gid_t)-1)))
		return folder_error(t, "write a file", e, err, errlen);
	close(f.fd); /* libkrb5 writes the cache by name; seal() syncs it */
	f.fd = -1;
	snprintf(tmp, sizeof tmp, "%s", f.tmp);
	snprintf(name, sizeof name, "FILE:%s", tmp);
	if (krb_ccache_copy(ccname, name, TS_CONFIG_KEY, origin, err, errlen))
		rc = TR_EXIT_AUTH;
	else if ((e = seal(t, tmp)))
		rc = folder_error(t, e == EPERM ? "set the group of a file" : "finish a file", e, err, errlen);
	else
		rc = cachefile_check(tmp, want, 0, tk, err, errlen);
	if (rc == TR_EXIT_OK && (e = atomic_commit(&f)))
		rc = folder_error(t, "rename a file", e, err, errlen);
	if (rc == TR_EXIT_OK)
		return rc;
	atomic_abort(&f);
	rename_in_message(err, errlen, name, origin);
	rename_in_message(err, errlen, tmp, origin);
	rename_in_message(err, errlen, ccname, origin);
	return rc;
}

int publish_bytes(const struct target *t, const void *data, size_t len, const char *want, const char *origin,
                  struct krb_ticket *tk, char *err, size_t errlen)
{
	char name[4300], why[512];
	size_t entries;
	struct atomic_file in;
	if (ccfile_parse(data, len, &entries, why, sizeof why)) {
		snprintf(err, errlen, "%s: %s", origin, why);
		return TR_EXIT_AUTH;
	}
	/* libkrb5 reads the exact bytes just parsed, not the source, which may change meanwhile.
	 * They go to a temporary file of their own that is never committed. */
	int e = atomic_open(&in, t->path, 0600, (gid_t)-1);
	if (!e)
		e = fs_write_all(in.fd, data, len);
	if (e) {
		atomic_abort(&in);
		return folder_error(t, "write a file", e, err, errlen);
	}
	snprintf(name, sizeof name, "FILE:%s", in.tmp);
	int rc = publish_ccache(t, name, want, origin, tk, err, errlen);
	atomic_abort(&in);
	return rc;
}
