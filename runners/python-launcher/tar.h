/* tar: a small reader for ustar, pax and GNU long-name archives, and a safe extractor.
 *
 * The archive is outside input. The reader checks every header (checksum, numbers, sizes) and
 * every name: no absolute path, no "..", no device file, FIFO or other special entry, no symlink
 * whose target leaves the tree (a target may only climb with leading "../", no further than its
 * own depth) and no hardlink except to a regular file already extracted. The extractor never
 * follows a symlink while creating an entry and never replaces an existing one, so nothing is
 * written outside the target folder. It reads through a callback: the caller decompresses. */
#ifndef PL_TAR_H
#define PL_TAR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Fill buf with up to n bytes; return the count, 0 at the end of input, -1 on error. */
typedef ssize_t (*tar_read_fn)(void *ctx, void *buf, size_t n);

struct tar_limits {
	uint64_t max_entry_size; /* bytes in one file */
	uint64_t max_total_size; /* bytes in all files together */
	unsigned long max_entries;
};

enum tar_type { TAR_FILE, TAR_DIR, TAR_SYMLINK, TAR_HARDLINK };

#define TAR_PATH_MAX 4096

struct tar_entry {
	enum tar_type type;
	char path[TAR_PATH_MAX]; /* checked and normalised: relative, no "." or ".." parts */
	char link[TAR_PATH_MAX]; /* symlink target, or the hardlink's archive path */
	uint64_t size;
	unsigned mode; /* permission bits as stored */
};

struct tar_reader {
	tar_read_fn read;
	void *ctx;
	struct tar_limits limits;
	uint64_t left;    /* data bytes of the current entry not read yet */
	uint64_t padding; /* bytes up to the next 512-byte boundary */
	uint64_t total;
	unsigned long entries;
	char err[512];
};

void tar_reader_init(struct tar_reader *r, tar_read_fn read, void *ctx, const struct tar_limits *limits);

/* The next entry: 1 with *e filled, 0 at the end of the archive, -1 with r->err set. The data of
 * the previous entry is skipped when it was not read. */
int tar_next(struct tar_reader *r, struct tar_entry *e);

/* Up to n bytes of the current entry's data: the count, 0 at its end, -1 with r->err set. */
ssize_t tar_read_data(struct tar_reader *r, void *buf, size_t n);

/* Whether a symlink at path may point at target without leaving the tree (see above). */
int tar_symlink_ok(const char *path, const char *target);

/* Extract the whole archive into the folder dirfd. Returns 0, or -1 with r->err set; on error
 * the folder may hold part of the archive (the caller removes it). */
int tar_extract(struct tar_reader *r, int dirfd);

#endif
