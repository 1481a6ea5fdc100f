/* child: run one program as a wrapped child and be a correct init for it.
 *
 * The program runs in its own process group. While it runs, the caller takes the stop signals
 * synchronously (they are blocked and read with sigtimedwait, so a self-pipe handler installed at
 * start-up never sees them) and forwards SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to
 * the whole group. Every child that ends is reaped, orphans re-parented to us included (as PID 1,
 * or as a child subreaper otherwise). The program starts with the default dispositions and an
 * empty signal mask (SIGPIPE included). A timeout or a stop signal sends SIGTERM to the group,
 * then SIGKILL after the grace; when the program has ended, whatever it left behind gets the same
 * treatment, so nothing outlives the call. */
#ifndef TR_CHILD_H
#define TR_CHILD_H

#include <stdbool.h>
#include <stddef.h>

struct child_opts {
	long timeout_ms;   /* 0: no timeout */
	long grace_ms;     /* between SIGTERM and SIGKILL (0: SIGKILL at once) */
	const char *dir;   /* working directory of the program, NULL: ours */
	char *const *envp; /* environment of the program, NULL: ours */
	/* The signal the group gets when we are asked to stop with SIGTERM or the timeout expires
	 * (0: SIGTERM). Some programs clean up only on SIGINT: dbt cancels its queries on
	 * KeyboardInterrupt, while Python's default SIGTERM ends it with the queries still running. */
	int term_as;
	/* 0: the program writes to our stdout; else its stdout is this descriptor (2: its output joins
	 * our stderr, keeping our stdout for the result line). */
	int stdout_to;
};

struct child_status {
	int exit_code;   /* the program's exit code, or 128+N when signal N killed it */
	int term_signal; /* N when a signal killed it, else 0 */
	int stop_signal; /* the first stop signal we received and forwarded, else 0 */
	bool timed_out;  /* the timeout expired and the group was stopped */
	bool killed;     /* the grace expired and the group got SIGKILL */
};

/* Run file (looked up in PATH when it has no '/') with argv and wait until it and everything it
 * started have ended. Returns 0 with *st filled, or -1 with err filled when the program could
 * not be started (then st->exit_code is 127 when it was not found, 126 when it cannot run). */
int child_run(const char *file, char *const argv[], const struct child_opts *opts, struct child_status *st, char *err,
              size_t errlen);

/* The exit code a status maps to: the program's own, or 128+N when we were stopped by signal N
 * and the program did not end by itself within the grace. */
int child_exit_code(const struct child_status *st);

#endif
