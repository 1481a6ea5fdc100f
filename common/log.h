/* log: the runner's log on stderr. One JSON object per line (ts, level, runner, event, msg,
 * fields) when stderr is not a terminal, readable text on a terminal; --log-format overrides.
 * Every line goes through redact_dup() and is written with one write(2), so lines from
 * several processes never interleave and nothing sits in a buffer when the process dies. */
#ifndef TR_LOG_H
#define TR_LOG_H

#include <cJSON.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

void log_init(const char *runner);
const char *log_runner(void);
/* "auto", "json" or "text"; returns -1 for anything else. */
int log_set_format(const char *format);
/* "debug", "info", "warn" or "error"; returns -1 for anything else. */
int log_set_level(const char *level);

/* Log one event. fields (a cJSON object, may be NULL) is consumed. */
void log_event(enum log_level level, const char *event, cJSON *fields, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

#define log_debug(event, ...) log_event(LOG_LEVEL_DEBUG, event, NULL, __VA_ARGS__)
#define log_info(event, ...)  log_event(LOG_LEVEL_INFO, event, NULL, __VA_ARGS__)
#define log_warn(event, ...)  log_event(LOG_LEVEL_WARN, event, NULL, __VA_ARGS__)
#define log_error(event, ...) log_event(LOG_LEVEL_ERROR, event, NULL, __VA_ARGS__)

#endif
