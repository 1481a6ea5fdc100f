/* child: a wrapped program in its own process group, with signal forwarding, reaping, a timeout
 * and a grace period. The signals are blocked for the whole call and read with sigtimedwait:
 * nothing runs asynchronously, and the caller's handlers see nothing of it. */
#include "child.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exitcode.h"
#include "signals.h"

extern char **environ;

/* Forwarded to the group. The first four also start the grace period: they ask it to stop. */
static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGALRM };
#define N_STOP_SIGNALS 4

/* After the program ended, leftovers are polled this often while they die. */
#define CLEANUP_POLL_MS 20

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool is_stop_signal(int sig)
{
	for (int i = 0; i < N_STOP_SIGNALS; i++)
		if (forwarded[i] == sig)
			return true;
	return false;
}

static void wait_set(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++)
		sigaddset(set, forwarded[i]);
	sigaddset(set, SIGCHLD);
}

/* In the forked child: own group, the terminal when we had it, clean signal state, exec.
 * Reports errno through the close-on-exec pipe when exec fails. */
static void exec_child(const char *file, char *const argv[], const struct child_opts *opts, int errfd, bool take_tty)
{
	setpgid(0, 0);
	if (take_tty) {
		signal(SIGTTOU, SIG_IGN); /* tcsetpgrp from a background group would stop us */
		tcsetpgrp(STDIN_FILENO, getpid());
	}
	struct sigaction dfl;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL); /* fails harmlessly for SIGKILL, SIGSTOP and libc's own */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	int e = 0;
	if (opts->stdout_to > 0 && opts->stdout_to != STDOUT_FILENO && dup2(opts->stdout_to, STDOUT_FILENO) < 0)
		e = errno;
	if (!e && opts->dir && chdir(opts->dir) < 0)
		e = errno;
	if (!e) {
		if (opts->envp)
			environ = (char **)opts->envp;
		execvp(file, argv);
		e = errno;
	}
	(void)!write(errfd, &e, sizeof e);
	_exit(e == ENOENT ? 127 : 126);
}

/* Every process we must still end: as PID 1 the whole namespace, else our group and the
 * orphans re-parented to us as subreaper (found in /proc, which may be absent). */
static void signal_leftovers(pid_t group, int sig)
{
	if (getpid() == 1) {
		kill(-1, sig);
		return;
	}
	kill(-group, sig);
	DIR *d = opendir("/proc");
	if (!d)
		return;
	pid_t self = getpid();
	struct dirent *de;
	while ((de = readdir(d))) {
		char path[64], buf[512];
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		if (pid <= 0 || *end)
			continue;
		snprintf(path, sizeof path, "/proc/%ld/stat", pid);
		FILE *f = fopen(path, "re");
		if (!f)
			continue;
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = '\0';
		const char *p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
		/* after the name: " STATE PPID ..." */
		if (p && strlen(p) > 4 && strtol(p + 4, NULL, 10) == self)
			kill((pid_t)pid, sig);
	}
	closedir(d);
}

struct run_state {
	pid_t pid;
	bool main_done;
	long kill_at; /* when SIGKILL goes out; 0: not stopping */
	long timeout_at;
	const struct child_opts *opts;
	struct child_status *st;
};

/* Reap every child that ended; remember the main program's status. Returns false once we have
 * no child left at all. */
static bool reap(struct run_state *rs)
{
	for (;;) {
		int status;
		pid_t p = waitpid(-1, &status, WNOHANG);
		if (p < 0 && errno == EINTR)
			continue;
		if (p < 0)
			return false; /* ECHILD */
		if (p == 0)
			return true;
		if (p != rs->pid)
			continue;
		rs->main_done = true;
		if (WIFSIGNALED(status)) {
			rs->st->term_signal = WTERMSIG(status);
			rs->st->exit_code = TR_EXIT_SIGNAL_BASE + WTERMSIG(status);
		} else {
			rs->st->exit_code = WEXITSTATUS(status);
		}
	}
}

/* What the group gets for a stop request: SIGTERM, or the caller's stand-in for it. */
static int as_sent(const struct run_state *rs, int sig)
{
	return sig == SIGTERM && rs->opts->term_as > 0 ? rs->opts->term_as : sig;
}

static void begin_stop(struct run_state *rs)
{
	if (!rs->kill_at)
		rs->kill_at = now_ms() + (rs->opts->grace_ms > 0 ? rs->opts->grace_ms : 0);
}

static void on_signal(struct run_state *rs, int sig)
{
	if (sig == SIGCHLD)
		return;
	kill(-rs->pid, as_sent(rs, sig));
	if (is_stop_signal(sig)) {
		if (!rs->st->stop_signal)
			rs->st->stop_signal = sig;
		begin_stop(rs);
	}
}

/* Sleep until a signal or the next deadline; act on whichever came. */
static void wait_step(struct run_state *rs, const sigset_t *set)
{
	long now = now_ms(), next = now + 60000;
	if (rs->timeout_at && rs->timeout_at < next)
		next = rs->timeout_at;
	if (rs->kill_at && rs->kill_at < next)
		next = rs->kill_at;
	if (rs->main_done && now + CLEANUP_POLL_MS < next)
		next = now + CLEANUP_POLL_MS;
	long wait = next > now ? next - now : 0;
	struct timespec ts = { wait / 1000, (wait % 1000) * 1000000 };
	int sig = sigtimedwait(set, NULL, &ts);
	if (sig > 0)
		on_signal(rs, sig);
	now = now_ms();
	if (rs->timeout_at && now >= rs->timeout_at && !rs->main_done) {
		rs->timeout_at = 0;
		rs->st->timed_out = true;
		kill(-rs->pid, as_sent(rs, SIGTERM));
		begin_stop(rs);
	}
	if (rs->main_done && rs->kill_at && now < rs->kill_at)
		signal_leftovers(rs->pid, SIGTERM); /* again, for those a dying parent re-parents to us */
	if (rs->kill_at && now >= rs->kill_at) {
		if (!rs->main_done)
			rs->st->killed = true;
		kill(-rs->pid, SIGKILL);
		if (rs->main_done)
			signal_leftovers(rs->pid, SIGKILL);
		rs->kill_at = now + CLEANUP_POLL_MS; /* again, for those a dying parent re-parents to us */
	}
}

/* The program ended: whatever it left gets SIGTERM, then SIGKILL after the grace, and we
 * reap until no child is left. */
static void end_leftovers(struct run_state *rs, const sigset_t *set)
{
	if (!reap(rs))
		return;
	signal_leftovers(rs->pid, SIGTERM);
	signal_leftovers(rs->pid, SIGCONT); /* a stopped process cannot act on SIGTERM */
	rs->kill_at = 0;
	begin_stop(rs);
	while (reap(rs))
		wait_step(rs, set);
}

static int start(const char *file, char *const argv[], const struct child_opts *opts, struct run_state *rs, char *err,
                 size_t errlen)
{
	int fds[2];
	if (pipe(fds) < 0) {
		snprintf(err, errlen, "cannot create a pipe: %s", strerror(errno));
		return -1;
	}
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	bool take_tty = isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp();
	pid_t pid = fork();
	if (pid == 0)
		exec_child(file, argv, opts, fds[1], take_tty);
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		snprintf(err, errlen, "cannot fork: %s", strerror(errno));
		return -1;
	}
	setpgid(pid, pid); /* also here, so kill(-pid) works before the child ran */
	rs->pid = pid;
	int e = 0;
	ssize_t n;
	do
		n = read(fds[0], &e, sizeof e);
	while (n < 0 && errno == EINTR);
	close(fds[0]);
	if (n <= 0)
		return 0;
	waitpid(pid, NULL, 0);
	rs->st->exit_code = e == ENOENT ? 127 : 126;
	snprintf(err, errlen, "cannot run %s: %s", file, strerror(e));
	return -1;
}

int child_run(const char *file, char *const argv[], const struct child_opts *opts, struct child_status *st, char *err,
              size_t errlen)
{
	memset(st, 0, sizeof *st);
	sigset_t set, old;
	wait_set(&set);
	sigprocmask(SIG_BLOCK, &set, &old);
	/* A stop that the start-up handler caught before the mask went up would never be
	 * forwarded: honour it here, and start nothing. */
	if (sig_caught()) {
		st->stop_signal = sig_caught();
		st->killed = true;
		st->exit_code = TR_EXIT_SIGNAL_BASE + st->stop_signal;
		sigprocmask(SIG_SETMASK, &old, NULL);
		return 0;
	}
	if (getpid() != 1)
		prctl(PR_SET_CHILD_SUBREAPER, 1);
	struct run_state rs = { .opts = opts, .st = st };
	int rc = start(file, argv, opts, &rs, err, errlen);
	if (rc == 0) {
		if (opts->timeout_ms > 0)
			rs.timeout_at = now_ms() + opts->timeout_ms;
		while (reap(&rs) && !rs.main_done)
			wait_step(&rs, &set);
		end_leftovers(&rs, &set);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}

int child_exit_code(const struct child_status *st)
{
	if (st->stop_signal && st->killed)
		return TR_EXIT_SIGNAL_BASE + st->stop_signal;
	return st->exit_code;
}
