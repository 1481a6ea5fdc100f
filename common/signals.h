/* signals: stop requests (SIGTERM, SIGINT, SIGHUP, SIGQUIT) for runners that may be PID 1.
 * As PID 1 the kernel drops signals that have no handler, so every runner installs these.
 * A caught signal is remembered and a byte is written to a self-pipe, so a runner waiting in
 * poll() wakes at once and can cancel its server work before exiting with 128+N. SIGPIPE is
 * ignored: a closed output is an error to report, not a silent death. */
#ifndef TR_SIGNALS_H
#define TR_SIGNALS_H

/* Install the handlers. Returns 0, or -1 with errno set. */
int sig_install(void);
/* The first stop signal caught, or 0. */
int sig_caught(void);
/* The self-pipe's read end, readable once a stop signal arrived (-1 before sig_install). */
int sig_fd(void);
/* 128 + the caught signal: the exit code of a stopped run. */
int sig_exit_code(void);

#endif
