/* fsutil: reading small files whole, and writing files others read atomically (temporary name in
 * the same folder, fsync, rename), so a reader never sees a half-written file. */
#ifndef TR_FSUTIL_H
#define TR_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>
#include <unistd.h>

/* Read a whole file of at most max bytes into a NUL-terminated malloc'd buffer.
 * Returns 0 or an errno value (EFBIG when larger than max). */
int fs_read_file(const char *path, size_t max, char **out, size_t *len);

/* Write data to path atomically with the given mode; gid (gid_t)-1 keeps the default group.
 * Returns 0 or an errno value; on error path is untouched and no temporary file is left. */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, gid_t gid);

#endif
