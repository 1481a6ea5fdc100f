/* libFuzzer target: dbt's run_results.json summary (runners/dbt-runner/runresults.h).
 * Besides memory safety: a summary always has counts with the five base statuses, as many nodes
 * as the counts add up to, at most 20 failing nodes whose messages are one short line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runresults.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_summary(const cJSON *s)
{
	const cJSON *counts = cJSON_GetObjectItemCaseSensitive(s, "counts");
	static const char *const base[] = { "success", "error", "fail", "warn", "skipped" };
	for (size_t i = 0; i < 5; i++)
		if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(counts, base[i])))
			abort();
	double total = 0;
	const cJSON *c;
	cJSON_ArrayForEach(c, counts) total += c->valuedouble;
	if (total != cJSON_GetObjectItemCaseSensitive(s, "nodes")->valuedouble)
		abort();
	const cJSON *failing = cJSON_GetObjectItemCaseSensitive(s, "failing_nodes"), *f;
	if (cJSON_GetArraySize(failing) > RUNRESULTS_MAX_FAILING)
		abort();
	cJSON_ArrayForEach(f, failing)
	{
		const char *m = cJSON_GetObjectItemCaseSensitive(f, "message")->valuestring;
		if (strlen(m) > RUNRESULTS_MESSAGE_MAX || strchr(m, '\n') || strchr(m, '\r'))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[200];
	err[0] = '\0';
	cJSON *s = runresults_summary((const char *)data, size, err, sizeof err);
	if (s)
		check_summary(s);
	else if (!err[0])
		abort();
	cJSON_Delete(s);
	return 0;
}
