/* targets: target lists and one process per target. */
#include "targets.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "clock.h"
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
	cJSON *result; /* filled when it ended */
};

static void result_path(struct buf *b, size_t index)
{
	buf_reset(b);
	buf_printf(b, "%s/model-deployer-%ld-%zu.json", cli_globals.workdir, (long)getpid(), index);
}

/* The child: run the job, leave its result at path, never return. */
static void child_main(const char *id, const char *path, target_job job, void *ctx)
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
	int err = text ? fs_write_atomic(path, text, strlen(text), 0600, (gid_t)-1) : ENOMEM;
	if (err)
		log_error("target", "%s: cannot write its result to %s: %s", id, path, strerror(err));
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

static void collect(struct slot *s, size_t index, int status)
{
	struct buf path = BUF_INIT;
	char *text = NULL;
	size_t len = 0;
	result_path(&path, index);
	if (fs_read_file(buf_str(&path), 64L << 20, &text, &len) == 0)
		s->result = cJSON_Parse(text);
	unlink(buf_str(&path));
	free(text);
	buf_free(&path);
	if (!s->result) {
		int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
		s->result = lost_result(s->id, sig ? TR_EXIT_SIGNAL_BASE + sig : TR_EXIT_FAILED,
		                        sig ? "the target's process was killed by a signal"
		                            : "the target's process left no result");
	}
	s->pid = 0;
}

static void start(struct slot *s, size_t index, target_job job, void *ctx)
{
	struct buf path = BUF_INIT;
	result_path(&path, index);
	fflush(NULL); /* nothing buffered may be written twice */
	s->pid = fork();
	if (s->pid == 0)
		child_main(s->id, buf_str(&path), job, ctx);
	if (s->pid < 0) {
		s->result = lost_result(s->id, TR_EXIT_TEMPFAIL, strerror(errno));
		s->pid = 0;
	}
	buf_free(&path);
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
	memset(slots, 0, ids->len * sizeof *slots);
	size_t next = 0, running = 0;
	bool forwarded = false;
	for (size_t i = 0; i < ids->len; i++)
		slots[i].id = ids->items[i];
	while (next < ids->len || running) {
		while (next < ids->len && running < (size_t)parallel && !sig_caught()) {
			start(&slots[next], next, job, ctx);
			running += slots[next++].pid > 0;
		}
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		for (size_t i = 0; pid > 0 && i < ids->len; i++)
			if (slots[i].pid == pid)
				collect(&slots[i], i, status), running--;
		if (pid > 0)
			continue;
		if (sig_caught() && !forwarded)
			forward_stop(slots, ids->len), forwarded = true;
		if (sig_caught() && running == 0)
			break;
		(void)sig_wait_fd(-1, 0, clock_ms() + 20, forwarded);
	}
	int code = overall(slots, ids->len, results);
	free(slots);
	return code;
}
