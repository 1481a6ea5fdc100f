/* libFuzzer target: spark-submit-runner's reader of the Kubernetes submission client's log
 * (k8sstatus.h), fed line by line as the tap hands it over. Whatever the log says, the verdict
 * is -1 (unknown) or an exit status 0..255, and 0 only when a terminated driver said 0. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "k8sstatus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct k8s_status s;
	k8s_status_init(&s);
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		k8s_status_line(&s, p, len);
		p += len + (nl ? 1 : 0);
	}
	if (s.n_containers > K8S_MAX_CONTAINERS || strlen(s.app_id) >= sizeof s.app_id ||
	    strlen(s.phase) >= sizeof s.phase)
		abort();
	char why[300];
	int code = k8s_status_exit(&s, "spark-kubernetes-driver", why, sizeof why);
	const struct k8s_container *c = k8s_status_driver(&s, "spark-kubernetes-driver");
	if (code < -1 || code > 255)
		abort();
	if (code == 0 && (!c || strcmp(c->state, "terminated") != 0 || !c->has_exit_code || c->exit_code != 0))
		abort();
	return 0;
}
