/* Unit tests: child (exit status passthrough, forwarding, timeout and grace, reaping, clean
 * signal state before exec). The wrapped programs are /bin/sh scripts. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "child.h"
#include "tt.h"

static const struct child_opts defaults = { .grace_ms = 2000 };

static int run_sh(const char *script, const struct child_opts *opts, struct child_status *st)
{
	char *argv[] = { "sh", "-c", (char *)script, NULL };
	char err[256] = "";
	return child_run("sh", argv, opts, st, err, sizeof err);
}

static double elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1000 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static bool no_child_left(void)
{
	return waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD;
}

static void exit_code_passes_through(void)
{
	struct child_status st;
	CHECK_INT(run_sh("exit 0", &defaults, &st), 0);
	CHECK_INT(st.exit_code, 0);
	CHECK_INT(run_sh("exit 99", &defaults, &st), 0);
	CHECK_INT(st.exit_code, 99);
	CHECK_INT(child_exit_code(&st), 99);
}

static void killed_by_signal_is_128_plus_n(void)
{
	struct child_status st;
	CHECK_INT(run_sh("kill -KILL $$", &defaults, &st), 0);
	CHECK_INT(st.term_signal, SIGKILL);
	CHECK_INT(st.exit_code, 137);
	CHECK_INT(run_sh("kill -SEGV $$", &defaults, &st), 0);
	CHECK_INT(st.exit_code, 128 + SIGSEGV);
}

static void missing_program_is_127(void)
{
	struct child_status st;
	char *argv[] = { "no-such-program-here", NULL };
	char err[256] = "";
	CHECK_INT(child_run("no-such-program-here", argv, &defaults, &st, err, sizeof err), -1);
	CHECK_INT(st.exit_code, 127);
	CHECK_CONTAINS(err, "no-such-program-here");
	CHECK(no_child_left());
}

static void stop_signal_reaches_the_group(void)
{
	/* The script asks us (its parent) for SIGTERM; its trap runs only when we forward it. */
	struct child_status st;
	CHECK_INT(run_sh("trap 'exit 3' TERM; kill -TERM $PPID; sleep 5 & wait", &defaults, &st), 0);
	CHECK_INT(st.stop_signal, SIGTERM);
	CHECK_INT(st.exit_code, 3);
	CHECK(!st.killed);
	CHECK_INT(child_exit_code(&st), 3);
	CHECK(no_child_left());
}

static void user_signals_are_forwarded(void)
{
	struct child_status st;
	CHECK_INT(run_sh("trap 'exit 41' USR1; kill -USR1 $PPID; sleep 5 & wait", &defaults, &st), 0);
	CHECK_INT(st.exit_code, 41);
	CHECK_INT(st.stop_signal, 0);
	CHECK_INT(run_sh("trap 'exit 42' USR2; kill -USR2 $PPID; sleep 5 & wait", &defaults, &st), 0);
	CHECK_INT(st.exit_code, 42);
}

static void default_term_gives_143(void)
{
	struct child_status st;
	CHECK_INT(run_sh("kill -TERM $PPID; sleep 5", &defaults, &st), 0);
	CHECK_INT(st.exit_code, 143);
	CHECK_INT(child_exit_code(&st), 143);
}

static void timeout_stops_the_group(void)
{
	struct child_status st;
	struct child_opts o = { .timeout_ms = 200, .grace_ms = 3000 };
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_INT(run_sh("sleep 10", &o, &st), 0);
	CHECK(st.timed_out);
	CHECK(!st.killed);
	CHECK_INT(st.exit_code, 143);
	CHECK(elapsed_ms(&t0) < 2000);
	CHECK(no_child_left());
}

static void grace_ends_with_sigkill(void)
{
	/* The shell and its sleep ignore SIGTERM: only SIGKILL after the grace ends them. */
	struct child_status st;
	struct child_opts o = { .timeout_ms = 100, .grace_ms = 300 };
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_INT(run_sh("trap '' TERM; sleep 10", &o, &st), 0);
	double ms = elapsed_ms(&t0);
	CHECK(st.timed_out);
	CHECK(st.killed);
	CHECK_INT(st.exit_code, 137);
	CHECK(ms >= 350 && ms < 3000);
	CHECK(no_child_left());
}

static void stop_then_grace_reports_the_stop_signal(void)
{
	struct child_status st;
	struct child_opts o = { .grace_ms = 200 };
	CHECK_INT(run_sh("trap '' TERM; kill -TERM $PPID; sleep 10", &o, &st), 0);
	CHECK(st.killed);
	CHECK_INT(st.stop_signal, SIGTERM);
	CHECK_INT(child_exit_code(&st), 143);
}

/* Run script with ORPHAN set to a file where the script's orphan writes its pid, then check that
 * the orphan is gone: ended and reaped (a zombie would still answer kill 0). */
static void check_orphan_gone(const char *script, const struct child_opts *opts, int want_code)
{
	char file[300], full[1024];
	snprintf(file, sizeof file, "%s/orphan.pid", tt_dir);
	snprintf(full, sizeof full, "export ORPHAN='%s'; %s", file, script);
	struct child_status st;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_INT(run_sh(full, opts, &st), 0);
	CHECK_INT(st.exit_code, want_code);
	CHECK(elapsed_ms(&t0) < 2000);
	CHECK(no_child_left());
	char *text = tt_read(file);
	long pid = text ? strtol(text, NULL, 10) : 0;
	CHECK(pid > 0);
	CHECK(pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH);
	free(text);
}

/* The grandchild outlives its parent in another session: we adopt it as subreaper, end it and
 * reap it. */
#define START_ORPHAN                                                                                                   \
	"setsid sh -c 'echo $$ > \"$ORPHAN\"; exec sleep 30' & while [ ! -s \"$ORPHAN\" ]; do sleep 0.01; done; "

static void orphans_are_reaped_and_ended(void)
{
	check_orphan_gone(START_ORPHAN "sleep 30 & exit 5", &defaults, 5);
}

static void orphans_ignoring_term_get_killed(void)
{
	struct child_opts o = { .grace_ms = 200 };
	check_orphan_gone("trap '' TERM; " START_ORPHAN "exit 0", &o, 0);
}

static void signal_state_is_clean_before_exec(void)
{
	/* Our ignored SIGPIPE and blocked SIGUSR1 must not reach the program. */
	signal(SIGPIPE, SIG_IGN);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	struct child_status st;
	char err[256];
	/* Signals 1-31 (bits 0-30) must be clean; libc reserves 32 and up for itself (sigaction
	 * refuses them), and GNU make, for one, starts us with 32 and 33 ignored. */
	char *ign[] = { "grep", "-Eq", "^SigIgn:[[:space:]]+[0-9a-f]*[08]0000000$", "/proc/self/status", NULL };
	CHECK_INT(child_run("grep", ign, &defaults, &st, err, sizeof err), 0);
	CHECK_INT(st.exit_code, 0);
	char *blk[] = { "grep", "-Eq", "^SigBlk:[[:space:]]+0+$", "/proc/self/status", NULL };
	CHECK_INT(child_run("grep", blk, &defaults, &st, err, sizeof err), 0);
	CHECK_INT(st.exit_code, 0);
	/* and the caller's mask is back as it was */
	sigset_t now;
	sigprocmask(SIG_BLOCK, NULL, &now);
	CHECK(sigismember(&now, SIGUSR1));
	CHECK(!sigismember(&now, SIGTERM));
}

static void own_process_group_dir_and_env(void)
{
	char script[512];
	snprintf(script, sizeof script,
	         "[ \"$(ps -o pgid= -p $$ | tr -d ' ')\" = $$ ] && [ \"$(pwd)\" = '%s' ] && [ \"$ONLY\" = yes ]",
	         tt_dir);
	char *env[] = { "ONLY=yes", "PATH=/usr/bin:/bin", NULL };
	struct child_opts o = { .grace_ms = 1000, .dir = tt_dir, .envp = env };
	struct child_status st;
	CHECK_INT(run_sh(script, &o, &st), 0);
	CHECK_INT(st.exit_code, 0);
}

static void term_as_sends_its_stand_in(void)
{
	/* The program tells SIGINT from SIGTERM; with term_as our SIGTERM reaches it as SIGINT, and
	 * so does the timeout's. The stop signal we report stays SIGTERM. */
	struct child_status st;
	struct child_opts o = { .grace_ms = 2000, .term_as = SIGINT };
	CHECK_INT(run_sh("trap 'exit 20' INT; trap 'exit 30' TERM; kill -TERM $PPID; sleep 5 & wait", &o, &st), 0);
	CHECK_INT(st.exit_code, 20);
	CHECK_INT(st.stop_signal, SIGTERM);
	struct child_opts t = { .timeout_ms = 100, .grace_ms = 2000, .term_as = SIGINT };
	CHECK_INT(run_sh("trap 'exit 21' INT; trap 'exit 31' TERM; sleep 5 & wait", &t, &st), 0);
	CHECK(st.timed_out);
	CHECK_INT(st.exit_code, 21);
	CHECK(no_child_left());
}

static void stdout_to_redirects_the_programs_output(void)
{
	struct tt_capture out, err;
	tt_capture_start(&out, 1);
	tt_capture_start(&err, 2);
	struct child_opts o = { .grace_ms = 1000, .stdout_to = 2 };
	struct child_status st;
	CHECK_INT(run_sh("echo to-stdout; echo to-stderr >&2", &o, &st), 0);
	char *e = tt_capture_end(&err), *s = tt_capture_end(&out);
	CHECK_INT(st.exit_code, 0);
	CHECK_STR(s, "");
	CHECK_STR(e, "to-stdout\nto-stderr\n");
	free(e);
	free(s);
}

TT_MAIN(TT_CASE(exit_code_passes_through), TT_CASE(killed_by_signal_is_128_plus_n), TT_CASE(missing_program_is_127),
        TT_CASE(stop_signal_reaches_the_group), TT_CASE(user_signals_are_forwarded), TT_CASE(default_term_gives_143),
        TT_CASE(timeout_stops_the_group), TT_CASE(grace_ends_with_sigkill),
        TT_CASE(stop_then_grace_reports_the_stop_signal), TT_CASE(orphans_are_reaped_and_ended),
        TT_CASE(orphans_ignoring_term_get_killed), TT_CASE(signal_state_is_clean_before_exec),
        TT_CASE(own_process_group_dir_and_env), TT_CASE(term_as_sends_its_stand_in),
        TT_CASE(stdout_to_redirects_the_programs_output))
