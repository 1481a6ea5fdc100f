/* unpack: zlib + tar_extract over a file descriptor, and the streaming variant on a thread. */
#define _XOPEN_SOURCE 700 /* nftw */
#include "unpack.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* The archive as the tar reader sees it. The first bytes are read ahead to find the gzip magic. */
struct source {
	int fd;
	bool gzip, eof;
	z_stream z;
	unsigned char in[65536];
	size_t held, pos; /* bytes read ahead (plain archives hand them out first) */
	char err[200];
};

static ssize_t read_fd(int fd, void *buf, size_t n)
{
	ssize_t k;
	do
		k = read(fd, buf, n);
	while (k < 0 && errno == EINTR);
	return k;
}

static ssize_t read_plain(struct source *s, void *buf, size_t n)
{
	if (s->pos < s->held) {
		size_t k = s->held - s->pos < n ? s->held - s->pos : n;
		memcpy(buf, s->in + s->pos, k);
		s->pos += k;
		return (ssize_t)k;
	}
	return read_fd(s->fd, buf, n);
}

static int inflate_more(struct source *s)
{
	if (s->z.avail_in == 0) {
		ssize_t k = read_fd(s->fd, s->in, sizeof s->in);
		if (k <= 0) {
			snprintf(s->err, sizeof s->err,
			         k < 0 ? "cannot read the archive" : "the gzip stream is truncated");
			return -1;
		}
		s->z.next_in = s->in;
		s->z.avail_in = (uInt)k;
	}
	int zr = inflate(&s->z, Z_NO_FLUSH);
	if (zr == Z_STREAM_END)
		s->eof = true;
	else if (zr != Z_OK) {
		snprintf(s->err, sizeof s->err, "the gzip stream is corrupt: %s", s->z.msg ? s->z.msg : "error");
		return -1;
	}
	return 0;
}

static ssize_t read_source(void *ctx, void *buf, size_t n)
{
	struct source *s = ctx;
	if (!s->gzip)
		return read_plain(s, buf, n);
	s->z.next_out = buf;
	s->z.avail_out = (uInt)n;
	while (s->z.avail_out == n && !s->eof)
		if (inflate_more(s) < 0)
			return -1;
	return (ssize_t)(n - s->z.avail_out);
}

static int source_open(struct source *s, int fd, char *err, size_t errlen)
{
	memset(s, 0, sizeof *s);
	s->fd = fd;
	ssize_t k = 0;
	while (s->held < 2 && (k = read_fd(fd, s->in + s->held, sizeof s->in - s->held)) > 0)
		s->held += (size_t)k;
	if (k < 0) {
		snprintf(err, errlen, "cannot read the archive: %s", strerror(errno));
		return -1;
	}
	s->gzip = s->held >= 2 && s->in[0] == 0x1f && s->in[1] == 0x8b;
	if (s->gzip && inflateInit2(&s->z, 15 + 16) != Z_OK) {
		snprintf(err, errlen, "cannot start zlib");
		return -1;
	}
	s->z.next_in = s->in;
	s->z.avail_in = (uInt)s->held;
	return 0;
}

int unpack_fd(int fd, const char *dir, const struct tar_limits *lim, char *err, size_t errlen)
{
	struct source *s = malloc(sizeof *s); /* 64 KiB: not on a thread's stack */
	if (!s || source_open(s, fd, err, errlen) < 0) {
		if (!s)
			snprintf(err, errlen, "out of memory");
		free(s);
		return -1;
	}
	struct tar_reader r;
	tar_reader_init(&r, read_source, s, lim);
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = dirfd < 0 ? -1 : tar_extract(&r, dirfd);
	if (rc < 0)
		snprintf(err, errlen, "%s", dirfd < 0 ? strerror(errno) : s->err[0] ? s->err : r.err);
	if (dirfd >= 0)
		close(dirfd);
	if (s->gzip)
		inflateEnd(&s->z);
	free(s);
	return rc;
}

struct unpack_stream {
	char *dir;
	struct tar_limits lim;
	int fds[2]; /* the thread reads fds[0]; feed writes fds[1] */
	pthread_t thread;
	bool running; /* a thread was started and not joined yet */
	int rc;
	char err[600];
};

/* Extract, then read the input to its end (tar pads archives past their end marker), so the
 * feeding side never blocks; on failure close the input instead, so feeding fails at once. */
static void *extract_thread(void *arg)
{
	struct unpack_stream *s = arg;
	s->rc = unpack_fd(s->fds[0], s->dir, &s->lim, s->err, sizeof s->err);
	if (s->rc == 0) {
		char sink[4096];
		while (read_fd(s->fds[0], sink, sizeof sink) > 0)
			;
	}
	shutdown(s->fds[0], SHUT_RD);
	return NULL;
}

static int stream_begin(struct unpack_stream *s)
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s->fds) < 0) {
		snprintf(s->err, sizeof s->err, "cannot create a socket pair: %s", strerror(errno));
		return -1;
	}
	s->rc = 0;
	s->err[0] = '\0';
	if (pthread_create(&s->thread, NULL, extract_thread, s) != 0) {
		close(s->fds[0]);
		close(s->fds[1]);
		snprintf(s->err, sizeof s->err, "cannot start a thread");
		return -1;
	}
	s->running = true;
	return 0;
}

static int stream_end(struct unpack_stream *s)
{
	if (!s->running)
		return -1; /* stream_begin failed: s->err says why */
	s->running = false;
	close(s->fds[1]);
	pthread_join(s->thread, NULL);
	close(s->fds[0]);
	return s->rc;
}

struct unpack_stream *unpack_stream_start(const char *dir, const struct tar_limits *lim, char *err, size_t errlen)
{
	struct unpack_stream *s = calloc(1, sizeof *s);
	if (!s || !(s->dir = strdup(dir))) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->lim = *lim;
	if (stream_begin(s) < 0) {
		snprintf(err, errlen, "%s", s->err);
		free(s->dir);
		free(s);
		return NULL;
	}
	return s;
}

int unpack_stream_feed(void *ctx, const void *data, size_t len)
{
	struct unpack_stream *s = ctx;
	const char *p = data;
	if (!s->running)
		return -1;
	while (len > 0) {
		ssize_t k = send(s->fds[1], p, len, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1; /* the extraction stopped: its error tells why */
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	return ftw->level > 0 && remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

void unpack_stream_restart(void *ctx)
{
	struct unpack_stream *s = ctx;
	stream_end(s);
	nftw(s->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS); /* empty it, keep the folder */
	stream_begin(s);
}

int unpack_stream_finish(struct unpack_stream *s, char *err, size_t errlen)
{
	int rc = stream_end(s);
	if (rc < 0)
		snprintf(err, errlen, "%s", s->err);
	free(s->dir);
	free(s);
	return rc;
}
