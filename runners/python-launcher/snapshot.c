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

#include "buf.h"
#include "exitcode.h"
#include "log.h"
#include "redact.h"
#include "result.h"
#include "secret.h"
#include "tar.h"
#include "unpack.h"

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

static struct tar_limits limits(const struct snapshot_opts *o)
{
	struct tar_limits lim = { (uint64_t)o->max_size, (uint64_t)o->max_size, (unsigned long)o->max_entries };
	return lim;
}

/* A private folder under the cache for one unpack: <cache>/.unpack-<digest prefix>-XXXXXX. */
static char *private_folder(const struct snapshot_opts *o, const char *digest)
{
	struct buf tmp = BUF_INIT;
	buf_printf(&tmp, "%s/.unpack-%.12s-XXXXXX", o->cache, digest);
	if (mkdtemp(tmp.data))
		return buf_detach(&tmp);
	result_fail(TR_EXIT_FAILED, "unpack", "cannot create a folder in %s: %s", o->cache, strerror(errno));
	buf_free(&tmp);
	return NULL;
}

/* Make a complete unpack visible as cache/<digest>. Losing the race to another process that
 * unpacked the same digest is success: its copy is as good as ours, which is dropped. */
static int publish(const char *tmp, const char *final)
{
	int rc = TR_EXIT_OK;
	if (chmod(tmp, 0755) < 0 || (rename(tmp, final) < 0 && errno != EEXIST && errno != ENOTEMPTY))
		rc = result_fail(TR_EXIT_FAILED, "unpack", "cannot move the snapshot into %s: %s", final,
		                 strerror(errno));
	if (access(tmp, F_OK) == 0)
		snapshot_rmtree(tmp);
	return rc;
}

static int unpack_failed(const char *digest, const char *err)
{
	return result_fail(TR_EXIT_USAGE, "unpack", "the snapshot %.12s cannot be unpacked: %s", digest, err);
}

/* Unpack a local archive into a private folder, then publish it. */
static int unpack_file(const struct snapshot_opts *o, const char *archive, const char *digest, const char *final)
{
	char *tmp = private_folder(o, digest);
	if (!tmp)
		return TR_EXIT_FAILED;
	char err[600] = "";
	struct tar_limits lim = limits(o);
	int fd = open(archive, O_RDONLY | O_CLOEXEC);
	int rc = TR_EXIT_OK;
	if (fd < 0 || unpack_fd(fd, tmp, &lim, err, sizeof err) < 0)
		rc = unpack_failed(digest, fd < 0 ? strerror(errno) : err);
	if (fd >= 0)
		close(fd);
	if (rc == TR_EXIT_OK)
		rc = publish(tmp, final);
	else
		snapshot_rmtree(tmp);
	free(tmp);
	return rc;
}

static int check_digest(const char *want, const char *got, const char *what)
{
	if (want && strcmp(want, got) != 0)
		return result_fail(TR_EXIT_USAGE, "digest_mismatch",
		                   "%s has SHA-256 %s, but --code-sha256 is %s; nothing was cached", what, got, want);
	return TR_EXIT_OK;
}

/* What a download that unpacked as it went comes to: the download's failure first, then the
 * digest (before anything is used), then the archive's own problems. */
static int finish_download(const struct snapshot_opts *o, int http_rc, const char *err, const struct http_result *res,
                           bool unpacked, const char *unpack_err)
{
	if (http_rc != TR_EXIT_OK && !unpacked && unpack_err[0] && http_rc == TR_EXIT_USAGE)
		return unpack_failed(o->sha256, unpack_err); /* the unpacker refused the data mid-way */
	if (http_rc != TR_EXIT_OK)
		return result_fail(http_rc, "download", "%s (after %d attempt%s)", err, res->attempts,
		                   res->attempts == 1 ? "" : "s");
	char got[65];
	hex(res->sha256, got);
	int rc = check_digest(o->sha256, got, "the downloaded snapshot");
	if (rc == TR_EXIT_OK && !unpacked)
		rc = unpack_failed(o->sha256, unpack_err);
	return rc;
}

/* The bearer token from the file --token-file names, through the one secret-file reader. */
static int read_token(const struct snapshot_opts *o, char **token)
{
	char err[600];
	*token = NULL;
	if (o->token_file && secret_read_file(o->token_file, "--token-file", token, err, sizeof err) < 0)
		return result_fail(TR_EXIT_USAGE, "config", "%s", err);
	if (*token)
		redact_add(*token);
	return TR_EXIT_OK;
}

/* Download into a unique temporary file of the cache while a thread unpacks the bytes as they
 * arrive into a private folder; publish the folder only once the digest matched. */
static int download_and_unpack(const struct snapshot_opts *o, const char *final, cJSON *info)
{
	struct buf file = BUF_INIT;
	buf_printf(&file, "%s/.download-XXXXXX", o->cache);
	int fd = mkstemp(file.data);
	char *tmp = fd < 0 ? NULL : private_folder(o, o->sha256);
	char *token = NULL, err[600] = "", unpack_err[600] = "";
	int rc = fd < 0 ? result_fail(TR_EXIT_FAILED, "download", "cannot create a file in %s: %s", o->cache,
	                              strerror(errno))
	         : tmp  ? read_token(o, &token)
	                : TR_EXIT_FAILED;
	struct tar_limits lim = limits(o);
	struct unpack_stream *us = rc == TR_EXIT_OK ? unpack_stream_start(tmp, &lim, err, sizeof err) : NULL;
	if (rc == TR_EXIT_OK && !us)
		rc = result_fail(TR_EXIT_FAILED, "unpack", "%s", err);
	struct http_opts h = o->http;
	h.token = token;
	h.on_data = unpack_stream_feed;
	h.on_restart = unpack_stream_restart;
	h.ctx = us;
	struct http_result res = { 0 };
	int http_rc = rc == TR_EXIT_OK ? http_download(o->code, fd, &h, &res, err, sizeof err) : rc;
	bool unpacked = us && unpack_stream_finish(us, unpack_err, sizeof unpack_err) == 0;
	if (rc == TR_EXIT_OK && http_rc == TR_EXIT_OK)
		cJSON_AddNumberToObject(info, "bytes_fetched", (double)res.bytes);
	rc = rc != TR_EXIT_OK ? rc : finish_download(o, http_rc, err, &res, unpacked, unpack_err);
	if (rc == TR_EXIT_OK && tmp)
		rc = publish(tmp, final);
	else if (tmp)
		snapshot_rmtree(tmp);
	if (fd >= 0) {
		close(fd);
		unlink(file.data);
	}
	free(token);
	free(tmp);
	buf_free(&file);
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
	if (!hit)
		rc = local ? unpack_file(o, local, digest, final.data) : download_and_unpack(o, final.data, info);
	if (!hit && rc == TR_EXIT_OK)
		log_info("snapshot", "snapshot %.12s unpacked into %s", digest, final.data);
	*dir = rc == TR_EXIT_OK ? buf_detach(&final) : NULL;
	buf_free(&final);
	return rc;
}
