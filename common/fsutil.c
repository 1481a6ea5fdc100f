/* fsutil: whole-file reads, the write loop, the atomic file writer and tree removal. */
#define _XOPEN_SOURCE 700 /* nftw */
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "buf.h"

#define TEMP_TRIES 8

int fs_read_file(const char *path, size_t max, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	struct buf b = BUF_INIT;
	char chunk[8192];
	ssize_t n;
	int rc = 0;
	while ((n = read(fd, chunk, sizeof chunk)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = errno;
			break;
		}
		if (b.len + (size_t)n > max) {
			rc = EFBIG;
			break;
		}
		buf_append(&b, chunk, (size_t)n);
	}
	close(fd);
	if (rc) {
		buf_free(&b);
		return rc;
	}
	*len = b.len;
	*out = buf_detach(&b);
	return 0;
}

int fs_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Make the rename itself durable. Best effort: some filesystems refuse fsync on a folder. */
static void sync_parent(const char *path)
{
	char *copy = xstrdup(path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(copy);
}

/* A fresh "<path>.tmp.<16 hex digits>" created with O_EXCL. PIDs repeat across containers
 * (every runner may be PID 1), random bytes do not. Returns the fd, or -1 with errno set. */
static int create_temp(const char *path, struct buf *tmp)
{
	for (int try = 0; try < TEMP_TRIES; try++) {
		unsigned char r[8];
		ssize_t got;
		while ((got = getrandom(r, sizeof r, 0)) < 0 && errno == EINTR)
			;
		if (got != (ssize_t)sizeof r)
			return -1;
		buf_reset(tmp);
		buf_printf(tmp, "%s.tmp.", path);
		for (size_t i = 0; i < sizeof r; i++)
			buf_printf(tmp, "%02x", r[i]);
		int fd = open(buf_str(tmp), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

int atomic_open(struct atomic_file *f, const char *path, mode_t mode, gid_t gid)
{
	struct buf tmp = BUF_INIT;
	memset(f, 0, sizeof *f);
	f->fd = create_temp(path, &tmp);
	int rc = f->fd < 0 ? errno : 0;
	if (!rc && gid != (gid_t)-1 && fchown(f->fd, (uid_t)-1, gid) < 0)
		rc = errno;
	if (!rc && fchmod(f->fd, mode) < 0)
		rc = errno;
	if (rc) {
		if (f->fd >= 0) {
			close(f->fd);
			unlink(buf_str(&tmp));
		}
		f->fd = -1;
		buf_free(&tmp);
		return rc;
	}
	f->path = xstrdup(path);
	f->tmp = buf_detach(&tmp);
	return 0;
}

static void atomic_release(struct atomic_file *f)
{
	free(f->path);
	free(f->tmp);
	f->path = f->tmp = NULL;
	f->fd = -1;
}

int atomic_commit(struct atomic_file *f)
{
	int rc = 0;
	if (f->fd >= 0 && fsync(f->fd) < 0)
		rc = errno;
	if (f->fd >= 0 && close(f->fd) < 0 && !rc)
		rc = errno;
	f->fd = -1;
	if (!rc && rename(f->tmp, f->path) < 0)
		rc = errno;
	if (rc)
		unlink(f->tmp);
	else
		sync_parent(f->path);
	atomic_release(f);
	return rc;
}

void atomic_abort(struct atomic_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->tmp)
		unlink(f->tmp);
	atomic_release(f);
}

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, gid_t gid)
{
	struct atomic_file f;
	int rc = atomic_open(&f, path, mode, gid);
	if (rc)
		return rc;
	rc = fs_write_all(f.fd, data, len);
	if (rc) {
		atomic_abort(&f);
		return rc;
	}
	return atomic_commit(&f);
}

int fs_copy_atomic(const char *src, const char *dst, mode_t mode)
{
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return errno;
	struct atomic_file f;
	int rc = atomic_open(&f, dst, mode, (gid_t)-1);
	char chunk[65536];
	while (!rc) {
		ssize_t n = read(in, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? errno : 0;
			break;
		}
		rc = fs_write_all(f.fd, chunk, (size_t)n);
	}
	close(in);
	if (rc) {
		if (f.tmp)
			atomic_abort(&f);
		return rc;
	}
	return atomic_commit(&f);
}

static int first_error;

static int remove_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	int r = type == FTW_DP ? rmdir(path) : unlink(path);
	if (r < 0 && errno != ENOENT && !first_error)
		first_error = errno;
	return 0; /* go on: remove as much as we can */
}

int fs_remove_tree(const char *path)
{
	first_error = 0;
	if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT && !first_error)
		first_error = errno;
	return first_error;
}
