/* targets: target lists and one process per target. */
#include "targets.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "exitcode.h"
#include "fsutil.h"
#include "log.h"
#include "result.h"
#include "signals.h"

static int add_id(struct strlist *out, const char *id, size_t n, const char *where)
{
	while (n && (id[0] == ' ' || id[0] == '\t'))
		id++, n--;
	while (n && (id[n - 1] == ' ' || id[n - 1] == '\t' || id[n - 1] == '\r'))
		n--;
	if (n == 0)
		return TR_EXIT_OK;
	char *s = xstrndup(id, n);
	int rc = TR_EXIT_OK;
	if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != n)
		rc = result_fail(TR_EXIT_USAGE, "usage", "%s: '%s' is not a connection id (letters, digits, _ and -)",
		                 where, s);
	else
		for (size_t i = 0; i <= out->len; i++)
			if (i == out->len) {
				strlist_push(out, s);
				break;
			} else if (strcmp(out->items[i], s) == 0) {
				break;
			}
	free(s);
	return rc;
}

/* Every comma-separated id of text[0..len). */
static int add_list(struct strlist *out, const char *text, size_t len, const char *where)
{
	int rc = TR_EXIT_OK;
	while (len && !rc) {
		size_t n = 0;
		while (n < len && text[n] != ',')
			n++;
		rc = add_id(out, text, n, where);
		n += n < len;
		text += n;
		len -= n;
	}
	return rc;
}

int targets_collect(const char *list, const char *file, struct strlist *out)
{
	int rc = list ? add_list(out, list, strlen(list), "--targets") : TR_EXIT_OK;
	if (file && !rc) {
		char *text = NULL;
		size_t len = 0;
		int err = fs_read_file(file, 1 << 20, &text, &len);
		if (err)
			return result_fail(TR_EXIT_USAGE, "usage", "cannot read the targets file %s: %s", file,
			                   strerror(err));
		for (char *line = text; *line && !rc;) {
			size_t n = strcspn(line, "\n"), keep = strcspn(line, "#\n");
			rc = add_list(out, line, keep, file);
			line += n + (line[n] == '\n');
		}
		free(text);
	}
	if (!rc && out->len == 0)
		rc = result_fail(TR_EXIT_USAGE, "usage", "no targets: give --targets ID,ID or --targets-file PATH");
	return rc;
}

struct slot {
	pid_t pid;
	const char *id;
	int fd;         /* the read end of the pipe the child writes its result to, or -1 */
	struct buf out; /* what came through it */
	cJSON *result;  /* filled when it ended */
};

/* The child: run the job, write its result to fd, never return. */
static void child_main(const char *id, int fd, target_job job, void *ctx)
{
	if (sig_after_fork() < 0)
		_exit(TR_EXIT_FAILED);
	cJSON *out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "target", id);
	int code = job(id, ctx, out);
	if (sig_caught())
		code = sig_exit_code();
	/* What common/ reported (result_fail, sql_report_error) went to this process's result. */
	static const char *const reported[] = { "error", "sqlstate", NULL };
	for (const char *const *k = reported; *k; k++) {
		const cJSON *v = cJSON_GetObjectItem(result_object(), *k);
		if (v && !cJSON_GetObjectItem(out, *k))
			cJSON_AddItemToObject(out, *k, cJSON_Duplicate(v, 1));
	}
	cJSON_AddStringToObject(out, "status", exitcode_status(code));
	cJSON_AddNumberToObject(out, "exit_code", code);
	char *text = cJSON_PrintUnformatted(out);
	int err = text ? fs_write_all(fd, text, strlen(text)) : ENOMEM;
	if (err)
		log_error("target", "%s: cannot hand its result over: %s", id, strerror(err));
	_exit(code);
}

/* A target's result when its process left none (it crashed) or never ran. */
static cJSON *lost_result(const char *id, int code, const char *why)
{
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "target", id);
	cJSON_AddStringToObject(r, "status", exitcode_status(code));
	cJSON_AddNumberToObject(r, "exit_code", code);
	cJSON_AddStringToObject(r, "error", why);
	return r;
}

/* Read what the child wrote so far (all of it once it exited: the pipe then ends). */
static void drain(struct slot *s, bool to_end)
{
	char chunk[16384];
	while (s->fd >= 0) {
		ssize_t n = read(s->fd, chunk, sizeof chunk);
		if (n > 0) {
			buf_append(&s->out, chunk, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && !to_end)
			return;
		if (n < 0 && errno == EAGAIN) { /* exited, but a grandchild may hold the pipe: wait a bit */
			struct pollfd p = { s->fd, POLLIN, 0 };
			if (poll(&p, 1, 1000) > 0)
				continue;
		}
		close(s->fd);
		s->fd = -1;
	}
}

static void collect(struct slot *s, int status)
{
	drain(s, true);
	s->result = s->out.len ? cJSON_Parse(buf_str(&s->out)) : NULL;
	buf_free(&s->out);
	if (!s->result) {
		int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
		s->result = lost_result(s->id, sig ? TR_EXIT_SIGNAL_BASE + sig : TR_EXIT_FAILED,
		                        sig ? "the target's process was killed by a signal"
		                            : "the target's process left no result");
	}
	s->pid = 0;
}

static void start(struct slot *s, target_job job, void *ctx)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0) {
		s->result = lost_result(s->id, TR_EXIT_TEMPFAIL, strerror(errno));
		return;
	}
	fflush(NULL); /* nothing buffered may be written twice */
	s->pid = fork();
	if (s->pid == 0) {
		close(fds[0]);
		child_main(s->id, fds[1], job, ctx);
	}
	close(fds[1]);
	if (s->pid < 0) {
		s->result = lost_result(s->id, TR_EXIT_TEMPFAIL, strerror(errno));
		s->pid = 0;
		close(fds[0]);
		return;
	}
	s->fd = fds[0];
	fcntl(s->fd, F_SETFL, O_NONBLOCK);
}

/* Wait up to 20 ms for output of any running target (or a signal: poll returns EINTR). */
static void wait_outputs(struct slot *slots, size_t n)
{
	struct pollfd *fds = xmalloc((n ? n : 1) * sizeof *fds);
	for (size_t i = 0; i < n; i++)
		fds[i] = (struct pollfd){ slots[i].fd, POLLIN, 0 };
	if (poll(fds, n, 20) > 0)
		for (size_t i = 0; i < n; i++)
			if (fds[i].revents)
				drain(&slots[i], false);
	free(fds);
}

static void forward_stop(struct slot *slots, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (slots[i].pid > 0)
			kill(slots[i].pid, sig_caught());
}

static int overall(struct slot *slots, size_t n, cJSON *results)
{
	int code = TR_EXIT_OK;
	bool all_temporary = true;
	for (size_t i = 0; i < n; i++) {
		if (!slots[i].result)
			slots[i].result = lost_result(slots[i].id, sig_exit_code(), "not started: the run was stopped");
		int c = cJSON_GetNumberValue(cJSON_GetObjectItem(slots[i].result, "exit_code"));
		if (c != TR_EXIT_OK) {
			code = TR_EXIT_FAILED;
			all_temporary = all_temporary && c == TR_EXIT_TEMPFAIL;
		}
		cJSON_AddItemToArray(results, slots[i].result);
	}
	if (sig_caught())
		return sig_exit_code();
	return code == TR_EXIT_OK ? TR_EXIT_OK : all_temporary ? TR_EXIT_TEMPFAIL : TR_EXIT_FAILED;
}

int targets_run(const struct strlist *ids, long parallel, target_job job, void *ctx, cJSON *results)
{
	struct slot *slots = xmalloc(ids->len * sizeof *slots);
	size_t next = 0, running = 0;
	bool forwarded = false;
	memset(slots, 0, ids->len * sizeof *slots);
	for (size_t i = 0; i < ids->len; i++) {
		slots[i].id = ids->items[i];
		slots[i].fd = -1;
	}
	while (next < ids->len || running) {
		while (next < ids->len && running < (size_t)parallel && !sig_caught()) {
			start(&slots[next], job, ctx);
			running += slots[next++].pid > 0;
		}
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		for (size_t i = 0; pid > 0 && i < ids->len; i++)
			if (slots[i].pid == pid)
				collect(&slots[i], status), running--;
		if (pid > 0)
			continue;
		if (sig_caught() && !forwarded)
			forward_stop(slots, ids->len), forwarded = true;
		if (sig_caught() && running == 0)
			break;
		wait_outputs(slots, ids->len);
	}
	int code = overall(slots, ids->len, results);
	free(slots);
	return code;
}
