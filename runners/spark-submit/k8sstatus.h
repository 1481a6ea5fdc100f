/* k8sstatus: what the Kubernetes submission client (spark-submit in cluster mode with
 * spark.kubernetes.submission.waitAppCompletion=true) reports about the driver pod.
 *
 * spark-submit exits 0 in cluster mode whatever the driver did; the driver's real status is only
 * in the client's log. The formats are Spark's own (LoggingPodStatusWatcherImpl and
 * KubernetesUtils.containersDescription, Spark 3.x and 4.x):
 *
 *   ... INFO LoggingPodStatusWatcherImpl: Waiting for application NAME with application ID
 *       spark-0123 and submission ID ns:pod-driver to finish...
 *   ... INFO LoggingPodStatusWatcherImpl: Application status for spark-0123 (phase: Running)
 *   ... INFO LoggingPodStatusWatcherImpl: State changed, new state:
 *   	 pod name: ...                      (one "\t key: value" line per field; N/A when empty)
 *   	 phase: Failed
 *   	 container status:
 *   		 container name: spark-kubernetes-driver      (nested: two tabs)
 *   ... INFO LoggingPodStatusWatcherImpl: Container final statuses:
 *   (two empty lines)
 *   	 container name: spark-kubernetes-driver
 *   	 container image: registry/spark@sha256:...
 *   	 container state: terminated            (running | waiting | terminated | N/A)
 *   	 container started at: ...
 *   	 container finished at: ...
 *   	 exit code: 1
 *   	 termination reason: Error
 *   ... INFO LoggingPodStatusWatcherImpl: Application NAME with application ID spark-0123 and
 *       submission ID ns:pod-driver finished
 *
 * or "No containers were found in the driver pod." instead of the final statuses. With Spark's
 * structured logging (spark.log.structuredLogging.enabled) each record is one JSON object whose
 * "msg" holds the same text, newlines escaped: both forms are read. The standalone client's
 * "Connected to Spark cluster with app ID app-..." gives the application ID too. Pure: no I/O. */
#ifndef SS_K8SSTATUS_H
#define SS_K8SSTATUS_H

#include <stdbool.h>
#include <stddef.h>

#define K8S_MAX_CONTAINERS 8

struct k8s_container {
	char name[128];
	char state[32]; /* running, waiting, terminated; "" when N/A */
	char reason[128];
	int exit_code;
	bool has_exit_code;
};

struct k8s_status {
	char app_id[128];
	char submission_id[256];
	char phase[32];  /* the pod's last phase seen: Pending, Running, Succeeded, Failed, Unknown */
	bool final_seen; /* "Container final statuses:" or "No containers were found ..." */
	bool finished;   /* "Application ... finished" */
	size_t n_containers;
	struct k8s_container containers[K8S_MAX_CONTAINERS];
	int block; /* which multi-line message the next indented lines belong to */
};

void k8s_status_init(struct k8s_status *s);
/* One line of the client's log (without its newline; need not be NUL-terminated). */
void k8s_status_line(struct k8s_status *s, const char *line, size_t len);

/* The driver's container among the final statuses: the one named name (the driver container's
 * name, "spark-kubernetes-driver" unless a pod template says otherwise), else the only one. */
const struct k8s_container *k8s_status_driver(const struct k8s_status *s, const char *name);

/* The exit code the final status means: the driver's own (0 only when it exited 0 and the pod did
 * not fail), or -1 with why filled when the report does not say how the driver ended. */
int k8s_status_exit(const struct k8s_status *s, const char *name, char *why, size_t whylen);

#endif
