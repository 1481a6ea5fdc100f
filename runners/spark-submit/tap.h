/* tap: read what a wrapped program writes to one of our file descriptors (stderr), line by line,
 * while passing every byte through unchanged and at once.
 *
 * tap_start() points the descriptor at a pipe (so a child started afterwards inherits the pipe)
 * and starts a reader thread that copies the pipe to the original destination and hands each line
 * to a callback. The thread blocks every signal: the stop signals stay with common/child's
 * synchronous wait. tap_stop() puts the descriptor back and waits until the pipe is drained,
 * which is when every process holding it has ended (common/child ends them all). */
#ifndef SS_TAP_H
#define SS_TAP_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

typedef void (*tap_line_fn)(void *ctx, const char *line, size_t len);

struct tap {
	int fd;      /* the tapped descriptor */
	int saved;   /* where its output really goes */
	int pipe_rd; /* the reader's end */
	tap_line_fn on_line;
	void *ctx;
	pthread_t thread;
};

/* Returns 0, or -1 with errno set (nothing changed). */
int tap_start(struct tap *t, int fd, tap_line_fn on_line, void *ctx);
void tap_stop(struct tap *t);

#endif
