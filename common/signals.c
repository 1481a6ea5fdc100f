/* signals: self-pipe stop signals. */
#include "signals.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "exitcode.h"

static volatile sig_atomic_t caught;
static int pipe_fds[2] = { -1, -1 };

static void on_stop(int sig)
{
	int saved = errno;
	if (!caught)
		caught = sig;
	if (pipe_fds[1] >= 0) {
		char c = (char)sig;
		(void)!write(pipe_fds[1], &c, 1);
	}
	errno = saved;
}

int sig_install(void)
{
	if (pipe_fds[0] < 0) {
		if (pipe(pipe_fds) < 0)
			return -1;
		for (int i = 0; i < 2; i++) {
			fcntl(pipe_fds[i], F_SETFD, FD_CLOEXEC);
			fcntl(pipe_fds[i], F_SETFL, O_NONBLOCK);
		}
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop; /* no SA_RESTART: blocking calls return EINTR */
	sigemptyset(&sa.sa_mask);
	static const int stops[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT };
	for (size_t i = 0; i < sizeof stops / sizeof *stops; i++)
		if (sigaction(stops[i], &sa, NULL) < 0)
			return -1;
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL);
}

int sig_after_fork(void)
{
	for (int i = 0; i < 2; i++) {
		if (pipe_fds[i] >= 0)
			close(pipe_fds[i]);
		pipe_fds[i] = -1;
	}
	caught = 0;
	return sig_install();
}

int sig_caught(void)
{
	return caught;
}

int sig_exit_code(void)
{
	return TR_EXIT_SIGNAL_BASE + caught;
}

/* Milliseconds left until deadline for poll(): -1 for none, clamped to int. */
static int poll_timeout(long deadline)
{
	if (deadline == SIG_NO_DEADLINE)
		return -1;
	long left = deadline - clock_ms();
	return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

enum sig_wake sig_wait_fd(int fd, short events, long deadline, bool after_stop)
{
	for (;;) {
		if (caught && !after_stop)
			return SIG_WAKE_STOP;
		struct pollfd fds[2] = { { fd, events, 0 }, { after_stop ? -1 : pipe_fds[0], POLLIN, 0 } };
		int timeout = poll_timeout(deadline);
		int n = poll(fds, 2, timeout);
		if (n < 0 && errno != EINTR)
			return SIG_WAKE_ERROR;
		if (caught && !after_stop)
			return SIG_WAKE_STOP;
		if (n > 0 && fds[0].revents)
			return SIG_WAKE_READY;
		if (n == 0 && timeout >= 0 && poll_timeout(deadline) == 0)
			return SIG_WAKE_TIMEOUT;
	}
}
