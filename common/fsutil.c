/* fsutil: whole-file reads and atomic writes. */
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"

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

static int write_all(int fd, const char *p, size_t len)
{
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

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, gid_t gid)
{
	static unsigned counter;
	struct buf tmp = BUF_INIT;
	buf_printf(&tmp, "%s.tmp.%ld.%u", path, (long)getpid(), counter++);
	int fd = open(buf_str(&tmp), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int rc = fd < 0 ? errno : 0;
	if (!rc && gid != (gid_t)-1 && fchown(fd, (uid_t)-1, gid) < 0)
		rc = errno;
	if (!rc && fchmod(fd, mode) < 0)
		rc = errno;
	if (!rc)
		rc = write_all(fd, data, len);
	if (!rc && fsync(fd) < 0)
		rc = errno;
	if (fd >= 0 && close(fd) < 0 && !rc)
		rc = errno;
	if (!rc && rename(buf_str(&tmp), path) < 0)
		rc = errno;
	if (rc && fd >= 0)
		unlink(buf_str(&tmp));
	if (!rc)
		sync_parent(path);
	buf_free(&tmp);
	return rc;
}
