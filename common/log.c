/* log: JSON-lines or text logging on stderr, through the redaction point. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "fsutil.h"
#include "redact.h"

enum log_format { LOG_FORMAT_AUTO, LOG_FORMAT_JSON, LOG_FORMAT_TEXT };

static const char *runner_name = "tinyrun";
static enum log_format format = LOG_FORMAT_AUTO;
static enum log_level threshold = LOG_LEVEL_INFO;
static const char *const level_names[] = { "debug", "info", "warn", "error" };

void log_init(const char *runner)
{
	runner_name = runner;
}

const char *log_runner(void)
{
	return runner_name;
}

int log_set_format(const char *name)
{
	static const char *const names[] = { "auto", "json", "text" };
	for (int i = 0; i < 3; i++) {
		if (strcmp(name, names[i]) == 0) {
			format = (enum log_format)i;
			return 0;
		}
	}
	return -1;
}

int log_set_level(const char *name)
{
	for (int i = 0; i < 4; i++) {
		if (strcmp(name, level_names[i]) == 0) {
			threshold = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

static void timestamp(char *out, size_t len)
{
	struct timespec now;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	size_t n = strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, len - n, ".%03ldZ", now.tv_nsec / 1000000);
}

static void format_json(struct buf *line, const char *ts, enum log_level level, const char *event, const char *msg,
                        cJSON *fields)
{
	cJSON *obj = cJSON_CreateObject();
	cJSON_AddStringToObject(obj, "ts", ts);
	cJSON_AddStringToObject(obj, "level", level_names[level]);
	cJSON_AddStringToObject(obj, "runner", runner_name);
	cJSON_AddStringToObject(obj, "event", event);
	cJSON_AddStringToObject(obj, "msg", msg);
	cJSON_AddItemToObject(obj, "fields", fields ? fields : cJSON_CreateObject());
	char *text = cJSON_PrintUnformatted(obj);
	buf_puts(line, text);
	free(text);
	cJSON_Delete(obj);
}

static void format_text(struct buf *line, const char *ts, enum log_level level, const char *event, const char *msg,
                        cJSON *fields)
{
	static const char *const upper[] = { "DEBUG", "INFO", "WARN", "ERROR" };
	buf_printf(line, "%s %-5s %s: %s", ts, upper[level], event, msg);
	for (cJSON *f = fields ? fields->child : NULL; f; f = f->next) {
		char *value = cJSON_IsString(f) ? NULL : cJSON_PrintUnformatted(f);
		buf_printf(line, " %s=%s", f->string, value ? value : f->valuestring);
		free(value);
	}
	cJSON_Delete(fields);
}

void log_event(enum log_level level, const char *event, cJSON *fields, const char *fmt, ...)
{
	if (level < threshold) {
		cJSON_Delete(fields);
		return;
	}
	int saved_errno = errno;
	struct buf msg = BUF_INIT, line = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&msg, fmt, ap);
	va_end(ap);

	char ts[40];
	timestamp(ts, sizeof ts);
	int json = format == LOG_FORMAT_JSON || (format == LOG_FORMAT_AUTO && !isatty(STDERR_FILENO));
	if (json)
		format_json(&line, ts, level, event, buf_str(&msg), fields);
	else
		format_text(&line, ts, level, event, buf_str(&msg), fields);
	buf_putc(&line, '\n');

	char *safe = redact_dup(buf_str(&line));
	(void)fs_write_all(STDERR_FILENO, safe, strlen(safe)); /* nowhere to report a failed log write */
	free(safe);
	buf_free(&msg);
	buf_free(&line);
	errno = saved_errno;
}
