/* tap: a pass-through reader thread on a pipe. */
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "fsutil.h"

/* A line longer than this reaches the callback cut (it still passes through whole). */
#define TAP_LINE_MAX 65536

static void emit_lines(struct tap *t, struct buf *line, const char *data, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (data[i] == '\n') {
			t->on_line(t->ctx, buf_str(line), line->len);
			buf_reset(line);
		} else if (line->len < TAP_LINE_MAX)
			buf_putc(line, data[i]);
	}
}

static void *reader(void *arg)
{
	struct tap *t = arg;
	struct buf line = BUF_INIT;
	char chunk[8192];
	for (;;) {
		ssize_t n = read(t->pipe_rd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		(void)fs_write_all(t->saved, chunk, (size_t)n); /* a closed stderr must not stop the drain */
		emit_lines(t, &line, chunk, (size_t)n);
	}
	if (line.len)
		t->on_line(t->ctx, buf_str(&line), line.len);
	buf_free(&line);
	return NULL;
}

int tap_start(struct tap *t, int fd, tap_line_fn on_line, void *ctx)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	fcntl(p[0], F_SETFD, FD_CLOEXEC);
	fcntl(p[1], F_SETFD, FD_CLOEXEC);
	t->fd = fd;
	t->on_line = on_line;
	t->ctx = ctx;
	t->pipe_rd = p[0];
	t->saved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (t->saved < 0 || dup2(p[1], fd) < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		if (t->saved >= 0)
			close(t->saved);
		errno = e;
		return -1;
	}
	close(p[1]); /* fd is now the only write end: dup2 cleared its close-on-exec flag */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int e = pthread_create(&t->thread, NULL, reader, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e) {
		dup2(t->saved, fd);
		close(t->saved);
		close(t->pipe_rd);
		errno = e;
		return -1;
	}
	return 0;
}

void tap_stop(struct tap *t)
{
	dup2(t->saved, t->fd); /* closes our write end: EOF once the children's copies are gone too */
	pthread_join(t->thread, NULL);
	close(t->saved);
	close(t->pipe_rd);
}
