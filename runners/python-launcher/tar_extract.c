/* tar_extract: write checked entries under one folder without ever following a symlink on the
 * way (every folder is opened with O_NOFOLLOW) and without replacing anything. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tar.h"

static int fail_errno(struct tar_reader *r, const struct tar_entry *e, const char *what)
{
	snprintf(r->err, sizeof r->err, "entry '%.300s': %s: %s", e->path, what, strerror(errno));
	return -1;
}

/* Open the folder that holds path (creating missing folders when create is set) and point *leaf
 * at the last part. Returns the folder's fd, or -1 with errno set. */
static int open_parent(int root, const char *path, const char **leaf, int create)
{
	int fd = dup(root);
	const char *p = path, *slash;
	while (fd >= 0 && (slash = strchr(p, '/'))) {
		char part[TAR_PATH_MAX];
		size_t n = (size_t)(slash - p);
		memcpy(part, p, n);
		part[n] = '\0';
		int next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && create && mkdirat(fd, part, 0755) == 0)
			next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int saved = errno;
		close(fd);
		errno = saved;
		fd = next;
		p = slash + 1;
	}
	*leaf = p;
	return fd;
}

static int write_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, buf, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		buf += k;
		n -= (size_t)k;
	}
	return 0;
}

static int extract_file(struct tar_reader *r, const struct tar_entry *e, int dir, const char *leaf)
{
	mode_t mode = (e->mode & 0111) ? 0755 : 0644;
	int fd = openat(dir, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return fail_errno(r, e, "cannot create");
	static char buf[65536];
	ssize_t n;
	int rc = 0;
	while (rc == 0 && (n = tar_read_data(r, buf, sizeof buf)) != 0) {
		if (n < 0)
			rc = -1;
		else if (write_all(fd, buf, (size_t)n) < 0)
			rc = fail_errno(r, e, "cannot write");
	}
	if (close(fd) < 0 && rc == 0)
		rc = fail_errno(r, e, "cannot write");
	return rc;
}

static int extract_dir(struct tar_reader *r, const struct tar_entry *e, int dir, const char *leaf)
{
	struct stat st;
	if (mkdirat(dir, leaf, 0755) == 0)
		return 0;
	if (errno == EEXIST && fstatat(dir, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
		return 0;
	return fail_errno(r, e, "cannot create the folder");
}

/* Only to a regular file already extracted: a hardlinked symlink would resolve from its new place. */
static int extract_hardlink(struct tar_reader *r, const struct tar_entry *e, int root, int dir, const char *leaf)
{
	const char *target_leaf;
	int tdir = open_parent(root, e->link, &target_leaf, 0);
	struct stat st;
	int rc = 0;
	if (tdir < 0 || fstatat(tdir, target_leaf, &st, AT_SYMLINK_NOFOLLOW) < 0)
		rc = fail_errno(r, e, "hardlink target missing");
	else if (!S_ISREG(st.st_mode)) {
		snprintf(r->err, sizeof r->err, "entry '%.300s': hardlink to something else than a file", e->path);
		rc = -1;
	} else if (linkat(tdir, target_leaf, dir, leaf, 0) < 0)
		rc = fail_errno(r, e, "cannot link");
	if (tdir >= 0)
		close(tdir);
	return rc;
}

static int extract_one(struct tar_reader *r, const struct tar_entry *e, int root)
{
	const char *leaf;
	int dir = open_parent(root, e->path, &leaf, 1);
	if (dir < 0)
		return fail_errno(r, e, "cannot open its folder (a symlink or a file is in the way?)");
	int rc;
	switch (e->type) {
	case TAR_FILE: rc = extract_file(r, e, dir, leaf); break;
	case TAR_DIR: rc = extract_dir(r, e, dir, leaf); break;
	case TAR_SYMLINK:
		rc = symlinkat(e->link, dir, leaf) < 0 ? fail_errno(r, e, "cannot create the symlink") : 0;
		break;
	default: rc = extract_hardlink(r, e, root, dir, leaf); break;
	}
	close(dir);
	return rc;
}

int tar_extract(struct tar_reader *r, int dirfd)
{
	struct tar_entry *e = malloc(sizeof *e);
	if (!e) {
		snprintf(r->err, sizeof r->err, "out of memory");
		return -1;
	}
	int rc;
	while ((rc = tar_next(r, e)) == 1)
		if (extract_one(r, e, dirfd) < 0) {
			rc = -1;
			break;
		}
	free(e);
	return rc;
}
