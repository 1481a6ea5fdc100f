/* result: the result line, return.json and the termination log. */
#include "result.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "build_info.h"
#include "buf.h"
#include "clock.h"
#include "exitcode.h"
#include "fsutil.h"
#include "log.h"
#include "redact.h"

static cJSON *result;
static struct timespec started;

cJSON *result_object(void)
{
	if (!result) {
		started = clock_now();
		result = cJSON_CreateObject();
		cJSON_AddStringToObject(result, "runner", log_runner());
		cJSON_AddStringToObject(result, "version", TR_VERSION);
	}
	return result;
}

int result_fail(int code, const char *event, const char *fmt, ...)
{
	struct buf msg = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	log_event(LOG_LEVEL_ERROR, event, NULL, "%s", buf_str(&msg));
	if (!cJSON_GetObjectItem(result_object(), "error"))
		cJSON_AddStringToObject(result, "error", buf_str(&msg));
	buf_free(&msg);
	return code;
}

static const char *env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);
	return v && *v ? v : fallback;
}

static void write_xcom(const char *line)
{
	const char *dir = env_or("TINYRUN_XCOM_DIR", "/airflow/xcom");
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return;
	struct buf path = BUF_INIT;
	buf_printf(&path, "%s/return.json", dir);
	int rc = fs_write_atomic(buf_str(&path), line, strlen(line), 0644, (gid_t)-1);
	if (rc)
		log_warn("xcom", "cannot write %s: %s", buf_str(&path), strerror(rc));
	buf_free(&path);
}

/* Kubernetes shows this file as the pod's termination message. It is a plain file that
 * the kubelet reads after exit, so a direct write is enough. */
static void write_termination_log(int code)
{
	const char *path = env_or("TINYRUN_TERMINATION_LOG", "/dev/termination-log");
	if (access(path, W_OK) < 0)
		return;
	cJSON *err = cJSON_GetObjectItem(result, "error");
	struct buf msg = BUF_INIT;
	buf_printf(&msg, "%s: %s (exit %d)%s%s\n", log_runner(), exitcode_status(code), code,
	           cJSON_IsString(err) ? ": " : "", cJSON_IsString(err) ? err->valuestring : "");
	char *safe = redact_dup(buf_str(&msg));
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, safe, strlen(safe)) < 0)
			log_warn("termination_log", "cannot write %s", path);
		close(fd);
	}
	free(safe);
	buf_free(&msg);
}

int result_finish(int code)
{
	cJSON *r = result_object();
	cJSON_AddStringToObject(r, "status", exitcode_status(code));
	cJSON_AddNumberToObject(r, "exit_code", code);
	cJSON_AddNumberToObject(r, "duration_ms", (double)(long)clock_ms_since(&started));

	char *text = cJSON_PrintUnformatted(r);
	char *safe = redact_dup(text);
	fflush(stdout);
	printf("%s\n", safe);
	fflush(stdout);
	write_xcom(safe);
	if (code != TR_EXIT_OK && code != TR_EXIT_SKIPPED)
		write_termination_log(code);
	free(safe);
	free(text);
	cJSON_Delete(r);
	result = NULL;
	return code;
}
