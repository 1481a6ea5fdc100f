/* result: the one JSON object a run ends with. It is printed as the LAST line of stdout
 * (DockerOperator pushes that line to XCom), written atomically to <xcom dir>/return.json when
 * that folder exists (KubernetesPodOperator), and on failure summarised in the termination log.
 * The folder and the log path default to /airflow/xcom and /dev/termination-log and may be moved
 * with TINYRUN_XCOM_DIR and TINYRUN_TERMINATION_LOG. */
#ifndef TR_RESULT_H
#define TR_RESULT_H

#include <cJSON.h>

/* The result object; runners add their own fields to it. */
cJSON *result_object(void);

/* Log an error (event, message) and keep the first one as the result's "error".
 * Returns code, so callers write `return result_fail(TR_EXIT_USAGE, "usage", "...")`. */
int result_fail(int code, const char *event, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Add status, exit_code and duration, emit the result everywhere it goes, return code. */
int result_finish(int code);

#endif
