/* fsutil: reading small files whole, removing a folder tree, the one "write all of this buffer" loop, and the one
 * atomic file writer for every file others read (sink outputs, XCom, published ticket caches).
 *
 * An atomic file is written under a temporary name next to its target: the name ends with a
 * random suffix from getrandom() and is created with O_EXCL, so it is unique per process and per
 * try even when every container's runner is PID 1 on a shared folder. Commit fsyncs the file,
 * renames it over the target and fsyncs the folder; a reader sees the old or the new file, whole. */
#ifndef TR_FSUTIL_H
#define TR_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>
#include <unistd.h>

/* Read a whole file of at most max bytes into a NUL-terminated malloc'd buffer.
 * Returns 0 or an errno value (EFBIG when larger than max). */
int fs_read_file(const char *path, size_t max, char **out, size_t *len);

/* Write all len bytes, retrying short writes and EINTR. Returns 0 or an errno value. */
int fs_write_all(int fd, const void *data, size_t len);

struct atomic_file {
	int fd;     /* open for writing; -1 once the caller closed it (after fsyncing it itself) */
	char *path; /* the target */
	char *tmp;  /* the temporary name */
};

/* Create the temporary file for path with the given mode; gid (gid_t)-1 keeps the default group.
 * Returns 0 or an errno value (nothing is left behind on error). */
int atomic_open(struct atomic_file *f, const char *path, mode_t mode, gid_t gid);
/* fsync and close f->fd (unless -1), rename over the target, fsync the folder. Returns 0 or an
 * errno value; on error the temporary file is removed and the target is untouched. */
int atomic_commit(struct atomic_file *f);
/* Drop the temporary file; the target is untouched. */
void atomic_abort(struct atomic_file *f);

/* atomic_open + fs_write_all + atomic_commit. Returns 0 or an errno value. */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, gid_t gid);

/* Copy the file src to dst through the atomic writer (streamed, any size). Returns 0 or an errno
 * value; dst is then untouched. */
int fs_copy_atomic(const char *src, const char *dst, mode_t mode);

/* Remove path and, when it is a folder, everything under it (symbolic links are removed, never
 * followed). Returns 0 (also when path does not exist) or the first errno value met. */
int fs_remove_tree(const char *path);

#endif
