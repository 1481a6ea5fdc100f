/* progenv: a wrapped program's environment and result file. */
#include "progenv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "exitcode.h"
#include "fsutil.h"
#include "log.h"
#include "result.h"
#include "runid.h"
#include "secret.h"

extern char **environ;

#define RESULT_FILE_MAX 1048576

/* AIRFLOW_CONN_<ID>_FILE=PATH adds AIRFLOW_CONN_<ID>=<the file's text>, unless that is set. */
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
		else if (value)
			progenv_set(env, buf_str(&name), value);
	}
	free(value);
	buf_free(&name);
	return rc;
}

int progenv_init(struct strlist *env)
{
	int rc = TR_EXIT_OK;
	for (char **e = environ; *e && rc == TR_EXIT_OK; e++)
		if (strchr(*e, '=') && runid_passes_to_child(*e)) {
			strlist_push(env, *e);
			rc = push_conn_from_file(env, *e);
		}
	return rc;
}

void progenv_set(struct strlist *env, const char *name, const char *value)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s=%s", name, value);
	size_t n = strlen(name);
	for (size_t i = 0; i < env->len; i++)
		if (strncmp(env->items[i], name, n) == 0 && env->items[i][n] == '=') {
			free(env->items[i]);
			env->items[i] = buf_detach(&b);
			return;
		}
	strlist_push(env, buf_str(&b));
	buf_free(&b);
}

int result_file_create(struct result_file *rf)
{
	struct buf dir = BUF_INIT;
	buf_printf(&dir, "%s/tinyrun-result-XXXXXX", cli_globals.workdir ? cli_globals.workdir : "/tmp");
	if (!mkdtemp(dir.data)) {
		int e = errno;
		buf_free(&dir);
		rf->dir = rf->path = NULL;
		return result_fail(TR_EXIT_FAILED, "workdir", "cannot create a folder in the workdir: %s", strerror(e));
	}
	struct buf path = BUF_INIT;
	buf_printf(&path, "%s/result.json", dir.data);
	rf->dir = buf_detach(&dir);
	rf->path = buf_detach(&path);
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

int result_file_merge(const struct result_file *rf, int rc)
{
	char *text = NULL;
	size_t len;
	int e = fs_read_file(rf->path, RESULT_FILE_MAX, &text, &len);
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
			log_warn("result_file", "the result file's field '%s' is the runner's own; it is dropped",
			         item->string);
			cJSON_Delete(item);
		} else
			cJSON_AddItemToObject(r, item->string, item);
	}
	cJSON_Delete(obj);
	return rc;
}

void result_file_remove(struct result_file *rf)
{
	if (rf->path)
		unlink(rf->path);
	if (rf->dir)
		rmdir(rf->dir);
	free(rf->path);
	free(rf->dir);
	rf->dir = rf->path = NULL;
}
