/* jobspec: a Spark job as the team describes it, read from JSON and checked before anything runs.
 *
 *   { "name": "daily-agg", "application": "jobs/agg.py", "main_class": "com.example.Agg" (a .jar),
 *     "master": "local[2]" | "spark://host:7077" | "k8s://https://api:6443",
 *     "deploy_mode": "client" | "cluster",
 *     "conf": {"spark.sql.shuffle.partitions": "8"}, "env": {"TZ": "UTC"},
 *     "jars": [...], "py_files": [...], "files": [...], "args": [...], "connections": ["warehouse"],
 *     "driver_memory": "1g", "driver_cores": 1, "executor_memory": "2g", "executor_cores": 2,
 *     "num_executors": 2 }
 *
 * Unknown fields are refused (a typo must not silently drop a setting). YAML is not read here: the
 * DAG factory reads a pipeline's YAML (inline or a datakit file) and hands the runner this JSON;
 * a hand-written .yaml file is read only when it is JSON, which is YAML too. Pure: no I/O. */
#ifndef SS_JOBSPEC_H
#define SS_JOBSPEC_H

#include <stdbool.h>
#include <stddef.h>

#include <cJSON.h>

#include "strlist.h"

struct kvlist {
	struct strlist keys, values;
};

struct spark_job {
	const char *name, *application, *main_class, *master, *deploy_mode;
	const char *driver_memory, *executor_memory;
	long driver_cores, executor_cores, num_executors; /* 0: unset */
	struct kvlist conf, env;
	struct strlist jars, py_files, files, args, connections;
	cJSON *doc; /* owns the strings above */
};

enum master_kind { MASTER_LOCAL, MASTER_STANDALONE, MASTER_K8S };

/* Parse and check a job spec (doc is consumed, also on error). Returns 0, or -1 with a message
 * naming the field in err. */
int jobspec_from_json(cJSON *doc, struct spark_job *job, char *err, size_t errlen);
/* jobspec_from_json over text. */
int jobspec_parse(const char *text, size_t len, struct spark_job *job, char *err, size_t errlen);

enum master_kind jobspec_master_kind(const struct spark_job *job);
/* The driver runs inside the cluster (deploy_mode cluster), not as spark-submit's own process. */
bool jobspec_cluster_mode(const struct spark_job *job);

void jobspec_free(struct spark_job *job);

#endif
