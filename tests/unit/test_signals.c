/* Unit tests: the one cancel-aware wait (signals.h: sig_wait_fd) and the stop-signal record. */
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include "clock.h"
#include "exitcode.h"
#include "signals.h"
#include "tt.h"

static void wait_ready_and_timeout(void)
{
	int p[2];
	CHECK_INT(pipe(p), 0);
	long t0 = clock_ms();
	CHECK_INT(sig_wait_fd(p[0], POLLIN, clock_ms() + 100, false), SIG_WAKE_TIMEOUT);
	long took = clock_ms() - t0;
	CHECK(took >= 95 && took < 1000);
	CHECK_INT(write(p[1], "x", 1), 1);
	CHECK_INT(sig_wait_fd(p[0], POLLIN, SIG_NO_DEADLINE, false), SIG_WAKE_READY);
	/* A deadline already past: no wait at all. */
	t0 = clock_ms();
	CHECK_INT(sig_wait_fd(-1, 0, clock_ms() - 10, false), SIG_WAKE_TIMEOUT);
	CHECK(clock_ms() - t0 < 50);
	close(p[0]);
	close(p[1]);
}

static void stop_signal_ends_a_wait(void)
{
	CHECK_INT(sig_install(), 0);
	CHECK_INT(sig_caught(), 0);
	pid_t parent = getpid();
	if (fork() == 0) {
		usleep(100 * 1000);
		kill(parent, SIGTERM);
		_exit(0);
	}
	long t0 = clock_ms();
	CHECK_INT(sig_wait_fd(-1, 0, clock_ms() + 10000, false), SIG_WAKE_STOP); /* a backoff sleep */
	CHECK(clock_ms() - t0 < 5000);
	CHECK_INT(sig_caught(), SIGTERM);
	CHECK_INT(sig_exit_code(), 143);
	/* Once stopped, every later wait returns at once ... */
	CHECK_INT(sig_wait_fd(-1, 0, SIG_NO_DEADLINE, false), SIG_WAKE_STOP);
	/* ... except the clean-up after the stop, which runs to its deadline. */
	CHECK_INT(sig_wait_fd(-1, 0, clock_ms() + 50, true), SIG_WAKE_TIMEOUT);
	CHECK_STR(exitcode_status(sig_exit_code()), "signalled");
}

TT_MAIN(TT_CASE(wait_ready_and_timeout), TT_CASE(stop_signal_ends_a_wait))
