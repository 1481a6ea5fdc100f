/* runresults: run_results.json / sources.json -> the summary object (see runresults.h). */
#include "runresults.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

static const char *const base_statuses[] = { "success", "error", "fail", "warn", "skipped" };

/* dbt's words for the same outcome in other node kinds. */
static const char *count_key(const char *status)
{
	if (strcmp(status, "pass") == 0)
		return "success";
	if (strcmp(status, "runtime error") == 0)
		return "error";
	return status;
}

static bool is_failing(const char *key)
{
	return strcmp(key, "error") == 0 || strcmp(key, "fail") == 0;
}

static const char *string_item(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The first line of msg, cut to RUNRESULTS_MESSAGE_MAX bytes on a UTF-8 character boundary. */
static char *first_line(const char *msg)
{
	size_t n = strcspn(msg, "\r\n");
	if (n > RUNRESULTS_MESSAGE_MAX) {
		n = RUNRESULTS_MESSAGE_MAX;
		while (n > 0 && ((unsigned char)msg[n] & 0xc0) == 0x80)
			n--;
	}
	return xstrndup(msg, n);
}

static void add_count(cJSON *counts, const char *key)
{
	cJSON *c = cJSON_GetObjectItemCaseSensitive(counts, key);
	if (c)
		cJSON_SetNumberValue(c, c->valuedouble + 1);
	else
		cJSON_AddNumberToObject(counts, key, 1);
}

static void add_failing(cJSON *list, const cJSON *node, long *omitted)
{
	if (cJSON_GetArraySize(list) >= RUNRESULTS_MAX_FAILING) {
		(*omitted)++;
		return;
	}
	const char *id = string_item(node, "unique_id");
	const char *msg = string_item(node, "message");
	if (!msg)
		msg = string_item(node, "error"); /* sources.json */
	cJSON *item = cJSON_CreateObject();
	cJSON_AddStringToObject(item, "unique_id", id ? id : "");
	char *line = first_line(msg ? msg : "");
	cJSON_AddStringToObject(item, "message", line);
	free(line);
	cJSON_AddItemToArray(list, item);
}

static void add_metadata(cJSON *out, const cJSON *doc)
{
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(doc, "metadata");
	const char *version = string_item(meta, "dbt_version"), *invocation = string_item(meta, "invocation_id");
	if (version)
		cJSON_AddStringToObject(out, "dbt_version", version);
	if (invocation)
		cJSON_AddStringToObject(out, "invocation_id", invocation);
	const cJSON *elapsed = cJSON_GetObjectItemCaseSensitive(doc, "elapsed_time");
	if (cJSON_IsNumber(elapsed))
		cJSON_AddNumberToObject(out, "elapsed_s", elapsed->valuedouble);
}

cJSON *runresults_summary(const char *text, size_t len, char *err, size_t errlen)
{
	cJSON *doc = cJSON_ParseWithLength(text, len);
	const cJSON *results = cJSON_GetObjectItemCaseSensitive(doc, "results");
	if (!cJSON_IsObject(doc) || !cJSON_IsArray(results)) {
		snprintf(err, errlen, "%s", doc ? "it has no results list" : "it is not valid JSON");
		cJSON_Delete(doc);
		return NULL;
	}
	cJSON *out = cJSON_CreateObject(), *counts = cJSON_CreateObject(), *failing = cJSON_CreateArray();
	for (size_t i = 0; i < sizeof base_statuses / sizeof *base_statuses; i++)
		cJSON_AddNumberToObject(counts, base_statuses[i], 0);
	add_metadata(out, doc);
	long nodes = 0, omitted = 0;
	const cJSON *node;
	cJSON_ArrayForEach(node, results)
	{
		const char *status = string_item(node, "status");
		const char *key = count_key(status ? status : "unknown");
		nodes++;
		add_count(counts, key);
		if (is_failing(key))
			add_failing(failing, node, &omitted);
	}
	cJSON_AddNumberToObject(out, "nodes", (double)nodes);
	cJSON_AddItemToObject(out, "counts", counts);
	cJSON_AddItemToObject(out, "failing_nodes", failing);
	if (omitted)
		cJSON_AddNumberToObject(out, "failing_nodes_omitted", (double)omitted);
	cJSON_Delete(doc);
	return out;
}
