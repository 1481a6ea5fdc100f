/* progenv: what a wrapped program (python-launcher, spark-submit) gets from the runner besides
 * its command line: its environment and its result file.
 *
 * The environment is ours, less our own TINYRUN_* settings (the run identity passes), with every
 * connection handed over as a file (AIRFLOW_CONN_<ID>_FILE: the DAG factory's way of keeping it
 * out of `docker inspect`) read into AIRFLOW_CONN_<ID>, as it arrives on Kubernetes: user code
 * reads connections the way Airflow does, from the variable itself.
 *
 * The result file is TINYRUN_RESULT_FILE, in a private folder of the workdir: a JSON object the
 * program writes there joins the result line; the runner's own fields win a clash. */
#ifndef TR_PROGENV_H
#define TR_PROGENV_H

#include "strlist.h"

/* Our environment for the program. Returns TR_EXIT_OK, or the exit code after result_fail(). */
int progenv_init(struct strlist *env);
/* Set NAME=VALUE, replacing an earlier NAME. strlist_terminate() gives child_opts.envp. */
void progenv_set(struct strlist *env, const char *name, const char *value);

struct result_file {
	char *dir;  /* private folder in the workdir */
	char *path; /* <dir>/result.json: the program's TINYRUN_RESULT_FILE */
};

/* Create the folder. Returns TR_EXIT_OK, or the exit code after result_fail(). */
int result_file_create(struct result_file *rf);
/* Merge the program's JSON object (when it wrote one) into the result. Returns rc, or 1 (when rc
 * was 0) after result_fail() when the file is not a JSON object of at most 1 MiB. */
int result_file_merge(const struct result_file *rf, int rc);
/* Remove the file and the folder. */
void result_file_remove(struct result_file *rf);

#endif
