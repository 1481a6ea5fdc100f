/* cmd_run: `python-launcher run`, the snapshot, then the program as a wrapped child (common/child),
 * then its result file merged into the result line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "child.h"
#include "commands.h"
#include "exitcode.h"
#include "fsutil.h"
#include "log.h"
#include "result.h"
#include "runid.h"
#include "secret.h"
#include "signals.h"

extern char **environ;

static const char *python = "python3";
static long timeout_ms, grace_ms = 8000;

#define RESULT_FILE_MAX 1048576

/* A connection handed over as a file (AIRFLOW_CONN_<ID>_FILE: the DAG factory's way of keeping it
 * out of `docker inspect`) reaches the program as AIRFLOW_CONN_<ID>, as it does on Kubernetes:
 * user code reads connections the way Airflow does, from the variable itself. */
static int push_conn_from_file(struct strlist *env, const char *var)
{
	const char *eq = strchr(var, '=');
	size_t len = (size_t)(eq - var);
	if (strncmp(var, "AIRFLOW_CONN_", 13) != 0 || len < 13 + 5 || strncmp(eq - 5, "_FILE", 5) != 0)
		return TR_EXIT_OK;
	struct buf name = BUF_INIT;
	buf_append(&name, var, len - 5);
	char err[300], *value = NULL;
	int rc = TR_EXIT_OK;
	if (!getenv(buf_str(&name))) {
		if (secret_getenv(buf_str(&name), true, &value, err, sizeof err) < 0)
			rc = result_fail(TR_EXIT_USAGE, "connection", "%s", err);
		else if (value) {
			buf_printf(&name, "=%s", value);
			strlist_push(env, buf_str(&name));
		}
	}
	free(value);
	buf_free(&name);
	return rc;
}

/* Our environment (AIRFLOW_CONN_* unchanged, those given as files added as values) with
 * TINYRUN_RESULT_FILE and the snapshot's identity. Bytecode is not written: the snapshot folder
 * is shared and may be read-only. Returns TR_EXIT_OK with *out set, or the exit code. */
static int child_env(const char *result_file, const char *sha, char ***out)
{
	struct strlist env = { 0 };
	int rc = TR_EXIT_OK;
	for (char **e = environ; *e && rc == TR_EXIT_OK; e++)
		if (runid_passes_to_child(*e)) {
			strlist_push(&env, *e);
			rc = push_conn_from_file(&env, *e);
		}
	struct buf b = BUF_INIT;
	buf_printf(&b, "TINYRUN_RESULT_FILE=%s", result_file);
	strlist_push(&env, buf_str(&b));
	buf_reset(&b);
	buf_printf(&b, "TINYRUN_CODE_SHA256=%s", sha ? sha : "");
	strlist_push(&env, buf_str(&b));
	buf_free(&b);
	if (!getenv("PYTHONDONTWRITEBYTECODE"))
		strlist_push(&env, "PYTHONDONTWRITEBYTECODE=1");
	strlist_push(&env, "");
	free(env.items[env.len - 1]);
	env.items[env.len - 1] = NULL; /* execve wants a NULL-terminated array */
	if (rc != TR_EXIT_OK) {
		strlist_free(&env);
		return rc;
	}
	*out = env.items;
	return TR_EXIT_OK;
}

/* The fields result_finish() adds last, which the program may not set. */
static bool finish_field(const char *name)
{
	static const char *const names[] = { "status", "exit_code", "duration_ms", "error" };
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

/* The program's JSON object joins the result; our own fields win a clash. */
static int merge_result_file(const char *path, int rc)
{
	char *text = NULL;
	size_t len;
	int e = fs_read_file(path, RESULT_FILE_MAX, &text, &len);
	if (e == ENOENT)
		return rc;
	cJSON *obj = e ? NULL : cJSON_ParseWithLength(text, len);
	free(text);
	if (!obj || !cJSON_IsObject(obj)) {
		cJSON_Delete(obj);
		int code = rc == TR_EXIT_OK ? TR_EXIT_FAILED : rc;
		return result_fail(code, "result_file", "the program's result file (TINYRUN_RESULT_FILE) %s",
		                   e == EFBIG ? "is larger than 1 MiB"
		                   : e        ? strerror(e)
		                              : "is not a JSON object");
	}
	cJSON *r = result_object();
	while (obj->child) {
		cJSON *item = cJSON_DetachItemViaPointer(obj, obj->child);
		if (cJSON_HasObjectItem(r, item->string) || finish_field(item->string)) {
			log_warn("result_file", "the result file's field '%s' is the launcher's own; it is dropped",
			         item->string);
			cJSON_Delete(item);
		} else
			cJSON_AddItemToObject(r, item->string, item);
	}
	cJSON_Delete(obj);
	return rc;
}

static int report_child(const struct child_status *st)
{
	cJSON *r = result_object();
	cJSON_AddNumberToObject(r, "program_exit_code", st->exit_code);
	if (st->term_signal)
		cJSON_AddNumberToObject(r, "program_signal", st->term_signal);
	if (st->stop_signal)
		log_info("stopped", "forwarded signal %d; the program %s", st->stop_signal,
		         st->killed ? "ignored it and was killed after the grace" : "ended");
	if (st->timed_out)
		return result_fail(TR_EXIT_FAILED, "timeout",
		                   "the program ran longer than --timeout (%ld ms) and was %s", timeout_ms,
		                   st->killed ? "killed after the grace" : "stopped");
	return child_exit_code(st);
}

/* Run the program with env and take in its result file. */
static int run_program(const char *dir, const struct strlist *args, char **env, const char *result_file)
{
	char **argv = calloc(args->len + 2, sizeof *argv);
	argv[0] = (char *)python;
	memcpy(argv + 1, args->items, args->len * sizeof *argv);
	struct child_opts co = { .timeout_ms = timeout_ms, .grace_ms = grace_ms, .dir = dir, .envp = env };
	struct child_status st;
	char err[300];
	log_info("start", "running %s %s in %s", python, args->items[0], dir);
	int rc = child_run(python, argv, &co, &st, err, sizeof err);
	rc = rc < 0 ? result_fail(TR_EXIT_USAGE, "start", "%s (is --python right for this image?)", err)
	            : report_child(&st);
	free(argv);
	return merge_result_file(result_file, rc);
}

static int launch(const char *dir, const struct strlist *args, const char *sha)
{
	struct buf tmpdir = BUF_INIT, file = BUF_INIT;
	buf_printf(&tmpdir, "%s/tinyrun-result-XXXXXX", cli_globals.workdir ? cli_globals.workdir : "/tmp");
	if (!mkdtemp(tmpdir.data)) {
		int rc = result_fail(TR_EXIT_FAILED, "workdir", "cannot create a folder in the workdir: %s",
		                     strerror(errno));
		buf_free(&tmpdir);
		return rc;
	}
	buf_printf(&file, "%s/result.json", tmpdir.data);
	char **env = NULL;
	int rc = child_env(file.data, sha, &env);
	if (rc == TR_EXIT_OK) {
		rc = run_program(dir, args, env, file.data);
		for (char **e = env; *e; e++)
			free(*e);
		free(env);
	}
	unlink(file.data);
	rmdir(tmpdir.data);
	buf_free(&tmpdir);
	buf_free(&file);
	return rc;
}

static int check_program(const char *program)
{
	if (program[0] == '/' || strcmp(program, "..") == 0 || strncmp(program, "../", 3) == 0 ||
	    strstr(program, "/../"))
		return result_fail(TR_EXIT_USAGE, "usage", "the program must be a path inside the snapshot, not '%s'",
		                   program);
	return TR_EXIT_OK;
}

static int run_main(const struct cmd *cmd, int argc, char **argv)
{
	struct strlist args = { 0 };
	int rc = cli_parse(cmd, argc, argv, &args);
	if (rc == TR_EXIT_OK && !args.len)
		rc = result_fail(TR_EXIT_USAGE, "usage", "missing PROGRAM; see '%s --help'", cmd->name);
	if (rc == TR_EXIT_OK && !snap.code)
		rc = result_fail(TR_EXIT_USAGE, "usage", "--code is required; see '%s --help'", cmd->name);
	if (rc == TR_EXIT_OK)
		rc = check_program(args.items[0]);
	char *dir = NULL;
	if (rc == TR_EXIT_OK) {
		snapshot_flags_apply();
		rc = snapshot_get(&snap, &dir, result_object());
	}
	if (rc == TR_EXIT_OK && sig_caught())
		rc = sig_exit_code(); /* stopped before the program started */
	if (rc == TR_EXIT_OK) {
		cJSON *sha = cJSON_GetObjectItem(result_object(), "code_sha256");
		rc = launch(dir, &args, cJSON_IsString(sha) ? sha->valuestring : NULL);
	}
	free(dir);
	strlist_free(&args);
	return rc;
}

/* clang-format off */
static const struct opt run_opts[] = {
	SNAPSHOT_OPTS,
	{ "python", 0, OPT_STRING, &python, "PATH", "the interpreter (default python3 from PATH)", 0 },
	{ "timeout", 0, OPT_DURATION, &timeout_ms, "DURATION", "stop the program after this long (0 = none)", 0 },
	{ "grace", 0, OPT_DURATION, &grace_ms, "DURATION",
	  "after SIGTERM (forwarded, or at the timeout), SIGKILL after this long (default 8s)", 0 },
	{ 0 }
};

const struct cmd cmd_run = {
	.name = "python-launcher run",
	.usage = "--code URL [--code-sha256 HEX] [flags] [--] PROGRAM [ARGS...]",
	.summary = "fetch and verify a snapshot, then run PROGRAM with python in it as PID 1",
	.description =
		"The snapshot is a .tar.gz or .tar of your code; PROGRAM is a path inside it. The program runs\n"
		"in the snapshot folder in its own process group, with the launcher as its init: SIGTERM,\n"
		"SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 are forwarded to the group, every zombie is\n"
		"reaped, and when the program ends whatever it left behind is stopped (SIGTERM, then SIGKILL\n"
		"after --grace). Put -- before PROGRAM when its arguments start with '-'.\n"
		"\n"
		"The program's stdout and stderr pass through. Its environment is ours (AIRFLOW_CONN_*\n"
		"included; AIRFLOW_CONN_<ID>_FILE is also read into AIRFLOW_CONN_<ID>) plus\n"
		"TINYRUN_RESULT_FILE: a JSON object written there joins the result line.\n"
		"\n"
		"Exit code: the program's (0, 1, 99 skip, ...; 128+N when signal N killed it). Stopped by\n"
		"signal N (docker stop): the program's own code when it ends within --grace, else 128+N\n"
		"(143 for SIGTERM). --timeout: 1. Before the program starts: 2, 3 or 75 (see --help).\n"
		"\n"
		"Example:\n"
		"  python-launcher run --code https://code.example/etl-1.4.tar.gz --code-sha256 9f2c...e1 \\\n"
		"      --timeout 30m -- validate.py --date 2026-01-31\n",
	.opts = run_opts,
	.run = run_main,
};
/* clang-format on */
