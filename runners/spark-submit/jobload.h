/* jobload: the job spec a submit runs: a JSON file (--job or the first argument), inline JSON
 * (--job-json), or none, with the job flags (--master, --conf K=V, ...) laid over it. */
#ifndef SS_JOBLOAD_H
#define SS_JOBLOAD_H

#include <stddef.h>

#include "jobspec.h"
#include "strlist.h"

/* The job flags of `submit`, as parsed. */
struct job_flags {
	const char *job_file, *job_json;
	const char *application, *main_class, *master, *deploy_mode, *name;
	const char *driver_memory, *executor_memory;
	long driver_cores, executor_cores, num_executors;
	struct strlist conf, env, jars, py_files, files, conns;
};

/* Load the spec and lay the flags and the positional arguments over it (the first positional is
 * the spec file when it is a .json/.yaml/.yml and no --job/--job-json was given; the others are
 * the application's arguments, after the spec's). Returns 0, or -1 with a message in err. */
int jobload(const struct job_flags *flags, const struct strlist *positional, struct spark_job *job, char *err,
            size_t errlen);

#endif
