/* snapshot: fetch, verify, unpack and cache code snapshots. */
#define _XOPEN_SOURCE 700 /* nftw */
#include "snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "buf.h"
#include "exitcode.h"
#include "log.h"
#include "result.h"
#include "secret.h"
#include "tar.h"

#define MAX_ENTRY_NAME 4096

bool snapshot_is_digest(const char *name)
{
	size_t n = strspn(name, "0123456789abcdef");
	return n == 64 && name[64] == '\0';
}

static void hex(const unsigned char d[32], char out[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * (size_t)i, 3, "%02x", d[i]);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		chmod(path, 0700); /* a read-only folder from the archive must still be emptied */
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

int snapshot_rmtree(const char *path)
{
	return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int sha256_file(const char *path, char out[65], char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	mbedtls_sha256_context c;
	mbedtls_sha256_init(&c);
	mbedtls_sha256_starts(&c, 0);
	static unsigned char buf[65536];
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		mbedtls_sha256_update(&c, buf, (size_t)n);
	unsigned char d[32];
	mbedtls_sha256_finish(&c, d);
	mbedtls_sha256_free(&c);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	hex(d, out);
	return 0;
}

/* The archive as the tar reader sees it: gzip is detected by its magic and inflated. */
struct source {
	int fd;
	bool gzip;
	z_stream z;
	unsigned char in[65536];
	bool eof;
	char err[200];
};

static ssize_t read_plain(struct source *s, void *buf, size_t n)
{
	ssize_t k;
	do
		k = read(s->fd, buf, n);
	while (k < 0 && errno == EINTR);
	return k;
}

static ssize_t read_source(void *ctx, void *buf, size_t n)
{
	struct source *s = ctx;
	if (!s->gzip)
		return read_plain(s, buf, n);
	s->z.next_out = buf;
	s->z.avail_out = (uInt)n;
	while (s->z.avail_out == n && !s->eof) {
		if (s->z.avail_in == 0) {
			ssize_t k = read_plain(s, s->in, sizeof s->in);
			if (k < 0)
				return -1;
			s->z.next_in = s->in;
			s->z.avail_in = (uInt)k;
			if (k == 0) {
				snprintf(s->err, sizeof s->err, "the gzip stream is truncated");
				return -1;
			}
		}
		int zr = inflate(&s->z, Z_NO_FLUSH);
		if (zr == Z_STREAM_END)
			s->eof = true;
		else if (zr != Z_OK) {
			snprintf(s->err, sizeof s->err, "the gzip stream is corrupt: %s",
			         s->z.msg ? s->z.msg : "error");
			return -1;
		}
	}
	return (ssize_t)(n - s->z.avail_out);
}

static int open_source(struct source *s, const char *path, char *err, size_t errlen)
{
	memset(s, 0, sizeof *s);
	s->fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned char magic[2];
	if (s->fd < 0 || pread(s->fd, magic, 2, 0) < 0) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	s->gzip = magic[0] == 0x1f && magic[1] == 0x8b;
	if (s->gzip && inflateInit2(&s->z, 15 + 16) != Z_OK) {
		snprintf(err, errlen, "cannot start zlib");
		return -1;
	}
	return 0;
}

/* Unpack archive into a private folder under cache, then rename it to cache/<digest>. */
static int unpack(const struct snapshot_opts *o, const char *archive, const char *digest, const char *final)
{
	char err[600] = "";
	struct buf tmp = BUF_INIT;
	buf_printf(&tmp, "%s/.unpack-%.12s-XXXXXX", o->cache, digest);
	struct source s;
	int rc = TR_EXIT_OK;
	if (!mkdtemp(tmp.data)) {
		rc = result_fail(TR_EXIT_FAILED, "unpack", "cannot create a folder in %s: %s", o->cache,
		                 strerror(errno));
		buf_free(&tmp);
		return rc;
	}
	if (open_source(&s, archive, err, sizeof err) == 0) {
		struct tar_limits lim = { (uint64_t)o->max_size, (uint64_t)o->max_size, (unsigned long)o->max_entries };
		struct tar_reader r;
		tar_reader_init(&r, read_source, &s, &lim);
		int dirfd = open(tmp.data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dirfd < 0 || tar_extract(&r, dirfd) < 0)
			snprintf(err, sizeof err, "%s", s.err[0] ? s.err : r.err);
		if (dirfd >= 0)
			close(dirfd);
	}
	if (s.fd >= 0)
		close(s.fd);
	if (s.gzip)
		inflateEnd(&s.z);
	if (err[0])
		rc = result_fail(TR_EXIT_USAGE, "unpack", "the snapshot %.12s cannot be unpacked: %s", digest, err);
	else if (chmod(tmp.data, 0755) < 0 || (rename(tmp.data, final) < 0 && errno != EEXIST && errno != ENOTEMPTY))
		rc = result_fail(TR_EXIT_FAILED, "unpack", "cannot move the snapshot into %s: %s", final,
		                 strerror(errno));
	if (access(tmp.data, F_OK) == 0) /* failed, or another process renamed its copy first */
		snapshot_rmtree(tmp.data);
	buf_free(&tmp);
	return rc;
}

static int check_digest(const char *want, const char *got, const char *what)
{
	if (want && strcmp(want, got) != 0)
		return result_fail(TR_EXIT_USAGE, "digest_mismatch",
		                   "%s has SHA-256 %s, but --code-sha256 is %s; nothing was cached", what, got, want);
	return TR_EXIT_OK;
}

/* Download into a unique temporary file in the cache; verify; return its path in *path. */
static int download(const struct snapshot_opts *o, char **path, cJSON *info)
{
	struct buf tmp = BUF_INIT;
	buf_printf(&tmp, "%s/.download-XXXXXX", o->cache);
	int fd = mkstemp(tmp.data);
	if (fd < 0) {
		buf_free(&tmp);
		return result_fail(TR_EXIT_FAILED, "download", "cannot create a file in %s: %s", o->cache,
		                   strerror(errno));
	}
	struct http_opts h = o->http;
	char *token = NULL, err[600] = "";
	int rc = TR_EXIT_OK;
	if (o->token_file) {
		/* the one secret-file reader: TINYRUN_TOKEN from the file the flag names */
		setenv("TINYRUN_TOKEN_FILE", o->token_file, 1);
		unsetenv("TINYRUN_TOKEN");
		if (secret_getenv("TINYRUN_TOKEN", true, &token, err, sizeof err) < 0)
			rc = result_fail(TR_EXIT_USAGE, "config", "%s", err);
		h.token = token;
	}
	struct http_result res;
	if (rc == TR_EXIT_OK && (rc = http_download(o->code, fd, &h, &res, err, sizeof err)) != TR_EXIT_OK)
		rc = result_fail(rc, "download", "%s (after %d attempt%s)", err, res.attempts,
		                 res.attempts == 1 ? "" : "s");
	close(fd);
	free(token);
	char got[65];
	if (rc == TR_EXIT_OK) {
		hex(res.sha256, got);
		cJSON_AddNumberToObject(info, "bytes_fetched", (double)res.bytes);
		rc = check_digest(o->sha256, got, "the downloaded snapshot");
	}
	if (rc != TR_EXIT_OK)
		unlink(tmp.data);
	*path = rc == TR_EXIT_OK ? buf_detach(&tmp) : NULL;
	buf_free(&tmp);
	return rc;
}

/* A cache hit: the folder exists. Its mtime is the LRU clock of `gc`. */
static bool cached(const char *final)
{
	struct stat st;
	if (lstat(final, &st) < 0 || !S_ISDIR(st.st_mode))
		return false;
	utimensat(AT_FDCWD, final, NULL, 0);
	return true;
}

static int archive_digest(const struct snapshot_opts *o, const char *path, char digest[65])
{
	char err[600];
	if (sha256_file(path, digest, err, sizeof err) < 0)
		return result_fail(TR_EXIT_USAGE, "snapshot", "%s", err);
	return check_digest(o->sha256, digest, path);
}

static int remote_or_local(const struct snapshot_opts *o, const char *scheme, const char **local)
{
	*local = NULL;
	if (strcmp(scheme, "file") == 0) {
		const char *p = o->code + 5;
		if (strncmp(p, "//", 2) == 0)
			p += 2;
		if (p[0] != '/')
			return result_fail(TR_EXIT_USAGE, "usage",
			                   "--code file:// needs an absolute path: file:///path");
		*local = p;
		return TR_EXIT_OK;
	}
	if (strcmp(scheme, "http") == 0 && !o->http.allow_http)
		return result_fail(TR_EXIT_USAGE, "usage",
		                   "--code: plain http:// is refused; use https://, or --allow-http");
	if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0)
		return result_fail(TR_EXIT_USAGE, "usage", "--code must be https:// or file://, not '%s:'", scheme);
	if (!o->sha256)
		return result_fail(TR_EXIT_USAGE, "usage", "--code-sha256 is required for remote code");
	return TR_EXIT_OK;
}

int snapshot_get(const struct snapshot_opts *o, char **dir, cJSON *info)
{
	char scheme[16], digest[65] = "";
	const char *local;
	*dir = NULL;
	if (o->sha256 && !snapshot_is_digest(o->sha256))
		return result_fail(TR_EXIT_USAGE, "usage", "--code-sha256 must be 64 lower-case hex digits");
	http_scheme(o->code, scheme, sizeof scheme);
	int rc = remote_or_local(o, scheme, &local);
	struct stat st;
	if (rc == TR_EXIT_OK && local && stat(local, &st) == 0 && S_ISDIR(st.st_mode)) {
		*dir = strdup(local); /* an unpacked snapshot, e.g. from `fetch` in an init container */
		return TR_EXIT_OK;
	}
	if (rc == TR_EXIT_OK && mkdir(o->cache, 0755) < 0 && errno != EEXIST)
		rc = result_fail(TR_EXIT_FAILED, "cache", "cannot create %s: %s", o->cache, strerror(errno));
	if (rc == TR_EXIT_OK && local)
		rc = archive_digest(o, local, digest);
	else if (rc == TR_EXIT_OK)
		snprintf(digest, sizeof digest, "%s", o->sha256);
	if (rc != TR_EXIT_OK)
		return rc;
	struct buf final = BUF_INIT;
	buf_printf(&final, "%s/%s", o->cache, digest);
	cJSON_AddStringToObject(info, "code_sha256", digest);
	bool hit = cached(final.data);
	cJSON_AddBoolToObject(info, "cache_hit", hit);
	char *downloaded = NULL;
	if (!hit && !local)
		rc = download(o, &downloaded, info);
	const char *archive = local ? local : downloaded;
	if (!hit && rc == TR_EXIT_OK && archive)
		rc = unpack(o, archive, digest, final.data);
	if (downloaded)
		unlink(downloaded);
	free(downloaded);
	if (!hit && rc == TR_EXIT_OK)
		log_info("snapshot", "snapshot %.12s unpacked into %s", digest, final.data);
	*dir = rc == TR_EXIT_OK ? buf_detach(&final) : NULL;
	buf_free(&final);
	return rc;
}
