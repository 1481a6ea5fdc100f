/* tt: a tiny unit-test framework, header only.
 *
 * A test binary lists its cases with TT_CASE and ends with TT_MAIN. Every case runs in its own
 * forked process, so a crash or sanitizer report fails that case only, and environment variables,
 * redaction secrets and other process state never leak from one case into the next.
 *
 *   BIN            run every case: one "PASS name" / "FAIL name" line each, then "N passed, N failed"
 *   BIN --list     print the case names
 *   BIN NAME...    run only the named cases
 *
 * Exit status 0 when every case passed, 1 otherwise. Failure details go to the original stdout,
 * even while a case has stdout or stderr redirected (tt_capture_*). */
#ifndef TT_H
#define TT_H

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define TT_FN static __attribute__((unused))

struct tt_case {
	const char *name;
	void (*fn)(void);
};

#define TT_CASE(fn)                                                                                                    \
	{                                                                                                              \
#fn, fn                                                                                                \
	}

static int tt_out = 1;   /* the original stdout */
static int tt_failed;    /* checks that failed in this case */
static char tt_dir[256]; /* a fresh temporary folder per case */

TT_FN void tt_report(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
TT_FN void tt_report(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	dprintf(tt_out, "    %s:%d: ", file, line);
	vdprintf(tt_out, fmt, ap);
	dprintf(tt_out, "\n");
	va_end(ap);
	tt_failed++;
}

#define CHECK(cond)                                                                                                    \
	do {                                                                                                           \
		if (!(cond))                                                                                           \
			tt_report(__FILE__, __LINE__, "CHECK(%s) failed", #cond);                                      \
	} while (0)

#define CHECK_INT(a, b)                                                                                                \
	do {                                                                                                           \
		long long tt_a = (long long)(a), tt_b = (long long)(b);                                                \
		if (tt_a != tt_b)                                                                                      \
			tt_report(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, tt_a, tt_b);                   \
	} while (0)

/* Strings compared with NULL allowed on either side. */
#define CHECK_STR(a, b)                                                                                                \
	do {                                                                                                           \
		const char *tt_a = (a), *tt_b = (b);                                                                   \
		if ((tt_a == NULL) != (tt_b == NULL) || (tt_a && strcmp(tt_a, tt_b) != 0))                             \
			tt_report(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b, tt_a ? tt_a : "(null)",    \
			          tt_b ? tt_b : "(null)");                                                             \
	} while (0)

#define CHECK_CONTAINS(hay, needle)                                                                                    \
	do {                                                                                                           \
		const char *tt_h = (hay), *tt_n = (needle);                                                            \
		if (!tt_h || !strstr(tt_h, tt_n))                                                                      \
			tt_report(__FILE__, __LINE__, "%s does not contain \"%s\": \"%s\"", #hay, tt_n,                \
			          tt_h ? tt_h : "(null)");                                                             \
	} while (0)

#define CHECK_NOT_CONTAINS(hay, needle)                                                                                \
	do {                                                                                                           \
		const char *tt_h = (hay), *tt_n = (needle);                                                            \
		if (tt_h && strstr(tt_h, tt_n))                                                                        \
			tt_report(__FILE__, __LINE__, "%s contains \"%s\": \"%s\"", #hay, tt_n, tt_h);                 \
	} while (0)

/* A path inside this case's temporary folder (static storage: copy it to keep two). */
TT_FN const char *tt_path(const char *name)
{
	static char path[4][512];
	static int next;
	char *p = path[next++ % 4];
	snprintf(p, sizeof path[0], "%s/%s", tt_dir, name);
	return p;
}

TT_FN void tt_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		tt_report(__FILE__, __LINE__, "cannot write %s: %s", path, strerror(errno));
		return;
	}
	fputs(text, f);
	fclose(f);
}

/* The whole file as a malloc'd string, or NULL. */
TT_FN char *tt_read(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t cap = 4096, len = 0;
	char *s = malloc(cap);
	size_t n;
	while ((n = fread(s + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 2)
			s = realloc(s, cap *= 2);
	}
	s[len] = '\0';
	fclose(f);
	return s;
}

/* Redirect fd (1 or 2) into a file; tt_capture_end restores it and returns what was written. */
struct tt_capture {
	int fd, saved;
	char path[512];
};

TT_FN void tt_capture_start(struct tt_capture *c, int fd)
{
	static int seq;
	fflush(NULL);
	c->fd = fd;
	snprintf(c->path, sizeof c->path, "%s/capture.%d.%d", tt_dir, fd, seq++);
	int f = open(c->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	c->saved = dup(fd);
	dup2(f, fd);
	close(f);
}

TT_FN char *tt_capture_end(struct tt_capture *c)
{
	fflush(NULL);
	dup2(c->saved, c->fd);
	close(c->saved);
	char *s = tt_read(c->path);
	unlink(c->path);
	return s ? s : strdup("");
}

TT_FN void tt_rmdir(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		dprintf(tt_out, "    cannot remove %s\n", dir);
}

TT_FN int tt_run_case(const struct tt_case *tc)
{
	snprintf(tt_dir, sizeof tt_dir, "%s/tt.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tt_dir)) {
		dprintf(tt_out, "FAIL %s (mkdtemp: %s)\n", tc->name, strerror(errno));
		return 1;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		tt_failed = 0;
		tc->fn();
		exit(tt_failed ? 1 : 0);
	}
	int status = 0;
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	tt_rmdir(tt_dir);
	int ok = pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	if (ok)
		dprintf(tt_out, "PASS %s\n", tc->name);
	else if (pid > 0 && WIFSIGNALED(status))
		dprintf(tt_out, "FAIL %s (signal %d)\n", tc->name, WTERMSIG(status));
	else
		dprintf(tt_out, "FAIL %s (exit %d)\n", tc->name, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return !ok;
}

TT_FN int tt_selected(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return 1;
	return 0;
}

TT_FN int tt_main(const struct tt_case *cases, size_t n, int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (size_t i = 0; i < n; i++)
			printf("%s\n", cases[i].name);
		return 0;
	}
	tt_out = dup(1);
	int passed = 0, failed = 0;
	for (size_t i = 0; i < n; i++) {
		if (!tt_selected(cases[i].name, argc, argv))
			continue;
		if (tt_run_case(&cases[i]))
			failed++;
		else
			passed++;
	}
	dprintf(tt_out, "%d passed, %d failed\n", passed, failed);
	return failed || passed == 0 ? 1 : 0;
}

/* The nonroot user of the images (uid and gid 65532). */
#define TT_NONROOT 65532

/* Run fn as TT_NONROOT when the tests run as root (in a child process, with the case's folder
 * opened to it), else directly: for checks that root's permission override would make no-ops. */
TT_FN void tt_as_nonroot(void (*fn)(void))
{
	if (geteuid() != 0) {
		fn();
		return;
	}
	chmod(tt_dir, 0777);
	pid_t pid = fork();
	if (pid == 0) {
		if (setgroups(0, NULL) != 0 || setgid(TT_NONROOT) != 0 || setuid(TT_NONROOT) != 0)
			_exit(3);
		fn();
		_exit(tt_failed ? 1 : 0);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		tt_report(__FILE__, __LINE__, "the part run as uid %d failed (wait status %d)", TT_NONROOT, status);
}

#define TT_MAIN(...)                                                                                                   \
	int main(int argc, char **argv)                                                                                \
	{                                                                                                              \
		static const struct tt_case cases[] = { __VA_ARGS__ };                                                 \
		return tt_main(cases, sizeof cases / sizeof *cases, argc, argv);                                       \
	}

#endif
