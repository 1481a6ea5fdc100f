/* runid: who is running this task. The DAG factory passes Airflow's run identity to every
 * container as TINYRUN_DAG_ID, TINYRUN_TASK_ID, TINYRUN_RUN_ID, TINYRUN_TRY_NUMBER and
 * TINYRUN_MAP_INDEX; runners show it to the server (PostgreSQL application_name, SQL Server
 * program name) so a DBA sees who runs what. */
#ifndef TR_RUNID_H
#define TR_RUNID_H

#include <stdbool.h>
#include <stddef.h>

/* "tinyrun/<dag>/<task>/<run>/<try>" (map index appended when set), cut to fit max bytes
 * (PostgreSQL keeps 63). Without a DAG id: "tinyrun/<runner>". The caller frees it. */
char *runid_application_name(const char *runner, size_t max);

/* Whether the environment entry var ("NAME=VALUE") reaches a wrapped program: everything but our
 * own TINYRUN_* settings, of which only the run identity passes. */
bool runid_passes_to_child(const char *var);

#endif
