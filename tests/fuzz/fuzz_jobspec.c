/* libFuzzer target: spark-submit-runner's job spec reader (jobspec.h). An accepted spec always
 * names an application (.py or .jar), a master of a known kind and client or cluster mode. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jobspec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spark_job job;
	char err[400];
	if (jobspec_parse((const char *)data, size, &job, err, sizeof err) == 0) {
		if (!job.application || !job.master || !job.deploy_mode)
			abort();
		if (strcmp(job.deploy_mode, "client") != 0 && strcmp(job.deploy_mode, "cluster") != 0)
			abort();
		if (job.conf.keys.len != job.conf.values.len || job.env.keys.len != job.env.values.len)
			abort();
		(void)jobspec_master_kind(&job);
	}
	jobspec_free(&job);
	return 0;
}
