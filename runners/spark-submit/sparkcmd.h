/* sparkcmd: the spark-submit command line for a job, under the platform's policy.
 *
 * Policy (Kubernetes masters): the platform's namespace, service account and pinned image
 * (NAME@sha256:...), spark.kubernetes.submission.waitAppCompletion=true (else the driver's
 * status is never known) and its pod templates. A job's conf may not set any of these, nor
 * anything that looks like a secret: secrets reach the driver and the executors as environment
 * variables (local and client mode) or as Kubernetes secret references
 * (spark.kubernetes.{driver,executor}.secretKeyRef.AIRFLOW_CONN_<ID>=<prefix><id>:uri), never in
 * argv or in Spark conf, which Spark logs and writes into the driver's ConfigMap. */
#ifndef SS_SPARKCMD_H
#define SS_SPARKCMD_H

#include <stddef.h>

#include "jobspec.h"

#define SPARK_DRIVER_CONTAINER "spark-kubernetes-driver"

struct k8s_policy {
	const char *namespace_name;
	const char *service_account;
	const char *image;
	const char *driver_pod_template;
	const char *executor_pod_template;
	const char *conn_secret_prefix; /* Secret "<prefix><conn-id>", key "uri" (the DAG factory's) */
};

/* Build argv (spark-submit first) from job. jdbc holds the connections' plain JDBC settings
 * (sparkconn), which in cluster mode travel as driver and executor environment. Returns 0, or -1
 * with a message in err. */
int sparkcmd_build(const char *spark_submit, const struct spark_job *job, const struct k8s_policy *pol,
                   const struct kvlist *jdbc, struct strlist *argv, char *err, size_t errlen);

/* The Kubernetes Secret name of connection id: prefix + id, lower-cased, '_' -> '-'. */
char *sparkcmd_secret_name(const char *prefix, const char *id);

#endif
