/* signals: stop requests (SIGTERM, SIGINT, SIGHUP, SIGQUIT) for runners that may be PID 1, and
 * the one blocking wait every runner uses (sig_wait_fd).
 * As PID 1 the kernel drops signals that have no handler, so cli_main installs these before
 * anything else: a runner honours SIGTERM while it parses, connects or backs off.
 * A caught signal is remembered and a byte is written to a self-pipe, so a runner waiting in
 * poll() wakes at once and can cancel its server work before exiting with 128+N. SIGPIPE is
 * ignored: a closed output is an error to report, not a silent death. */
#ifndef TR_SIGNALS_H
#define TR_SIGNALS_H

#include <stdbool.h>

/* Install the handlers. Returns 0, or -1 with errno set. */
int sig_install(void);
/* In a child after fork(): a self-pipe of its own (a shared one would wake parent and child
 * alike, and stay readable for both) and no stop caught yet. Returns 0, or -1 with errno set. */
int sig_after_fork(void);
/* The first stop signal caught, or 0. */
int sig_caught(void);
/* 128 + the caught signal: the exit code of a stopped run. */
int sig_exit_code(void);

/* How a wait ended. */
enum sig_wake {
	SIG_WAKE_READY,   /* fd has one of the events */
	SIG_WAKE_TIMEOUT, /* the deadline passed */
	SIG_WAKE_STOP,    /* a stop signal was caught (now or before the call) */
	SIG_WAKE_ERROR    /* poll failed; errno is set */
};
#define SIG_NO_DEADLINE (-1L)

/* Wait until fd has one of events (POLLIN, POLLOUT), the deadline (a clock_ms() time, or
 * SIG_NO_DEADLINE) passes, or a stop signal arrives. fd -1 waits for the deadline or a signal
 * only (a backoff sleep). With after_stop, a signal already caught does not end the wait: for
 * the bounded clean-up after a stop (cancelling server work), which then needs a deadline. */
enum sig_wake sig_wait_fd(int fd, short events, long deadline, bool after_stop);

#endif
