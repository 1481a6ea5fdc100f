/* jobload: the job spec from a file or inline JSON, with the flags laid over it. */
#include "jobload.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fsutil.h"

#define JOB_FILE_MAX 1048576

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool is_yaml(const char *path)
{
	return ends_with(path, ".yaml") || ends_with(path, ".yml");
}

static cJSON *read_spec(const char *path, const char *inline_json, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	if (inline_json) {
		cJSON *doc = cJSON_Parse(inline_json);
		if (!doc)
			snprintf(err, errlen, "--job-json is not valid JSON");
		return doc;
	}
	if (!path)
		return cJSON_CreateObject();
	int e = fs_read_file(path, JOB_FILE_MAX, &text, &len);
	if (e) {
		snprintf(err, errlen, "job spec %s: %s", path, e == EFBIG ? "larger than 1 MiB" : strerror(e));
		return NULL;
	}
	cJSON *doc = cJSON_ParseWithLength(text, len);
	free(text);
	if (!doc && is_yaml(path))
		snprintf(err, errlen,
		         "job spec %s: only YAML's JSON form is read here; let the DAG factory pass the "
		         "job (runner: spark, job: ...), or write the spec as JSON",
		         path);
	else if (!doc)
		snprintf(err, errlen, "job spec %s is not valid JSON", path);
	return doc;
}

static void set_string(cJSON *doc, const char *key, const char *value)
{
	if (!value)
		return;
	cJSON_DeleteItemFromObjectCaseSensitive(doc, key);
	cJSON_AddStringToObject(doc, key, value);
}

static void set_count(cJSON *doc, const char *key, long value)
{
	if (!value)
		return;
	cJSON_DeleteItemFromObjectCaseSensitive(doc, key);
	cJSON_AddNumberToObject(doc, key, (double)value);
}

/* An object member of doc (created when missing; replaced when it is no object, which the
 * spec check would refuse anyway). */
static cJSON *member(cJSON *doc, const char *key, bool array)
{
	cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, key);
	if (m && (array ? cJSON_IsArray(m) : cJSON_IsObject(m)))
		return m;
	cJSON_DeleteItemFromObjectCaseSensitive(doc, key);
	return array ? cJSON_AddArrayToObject(doc, key) : cJSON_AddObjectToObject(doc, key);
}

static int set_pairs(cJSON *doc, const char *key, const struct strlist *pairs, char *err, size_t errlen)
{
	if (!pairs->len)
		return 0;
	cJSON *map = member(doc, key, false);
	for (size_t i = 0; i < pairs->len; i++) {
		const char *eq = strchr(pairs->items[i], '=');
		if (!eq || eq == pairs->items[i]) {
			snprintf(err, errlen, "--%s wants NAME=VALUE, not '%s'", key, pairs->items[i]);
			return -1;
		}
		char *name = xstrndup(pairs->items[i], (size_t)(eq - pairs->items[i]));
		cJSON_DeleteItemFromObjectCaseSensitive(map, name);
		cJSON_AddStringToObject(map, name, eq + 1);
		free(name);
	}
	return 0;
}

static bool listed(const cJSON *list, const char *value)
{
	for (const cJSON *e = list->child; e; e = e->next)
		if (cJSON_IsString(e) && strcmp(e->valuestring, value) == 0)
			return true;
	return false;
}

/* Append items[from..] to doc's list key; once only when unique (a connection named by the spec
 * and by --conn). */
static void append(cJSON *doc, const char *key, const struct strlist *items, size_t from, bool unique)
{
	if (items->len <= from)
		return;
	cJSON *list = member(doc, key, true);
	for (size_t i = from; i < items->len; i++)
		if (!unique || !listed(list, items->items[i]))
			cJSON_AddItemToArray(list, cJSON_CreateString(items->items[i]));
}

static int overlay(cJSON *doc, const struct job_flags *f, const struct strlist *args, size_t from, char *err,
                   size_t errlen)
{
	const char *strings[][2] = { { "application", f->application },
		                     { "main_class", f->main_class },
		                     { "master", f->master },
		                     { "deploy_mode", f->deploy_mode },
		                     { "name", f->name },
		                     { "driver_memory", f->driver_memory },
		                     { "executor_memory", f->executor_memory } };
	for (size_t i = 0; i < sizeof strings / sizeof *strings; i++)
		set_string(doc, strings[i][0], strings[i][1]);
	set_count(doc, "driver_cores", f->driver_cores);
	set_count(doc, "executor_cores", f->executor_cores);
	set_count(doc, "num_executors", f->num_executors);
	if (set_pairs(doc, "conf", &f->conf, err, errlen) < 0 || set_pairs(doc, "env", &f->env, err, errlen) < 0)
		return -1;
	append(doc, "jars", &f->jars, 0, false);
	append(doc, "py_files", &f->py_files, 0, false);
	append(doc, "files", &f->files, 0, false);
	append(doc, "connections", &f->conns, 0, true);
	append(doc, "args", args, from, false);
	return 0;
}

int jobload(const struct job_flags *flags, const struct strlist *positional, struct spark_job *job, char *err,
            size_t errlen)
{
	const char *path = flags->job_file;
	size_t from = 0;
	if (!path && !flags->job_json && positional->len &&
	    (ends_with(positional->items[0], ".json") || is_yaml(positional->items[0])))
		path = positional->items[from++];
	memset(job, 0, sizeof *job);
	cJSON *doc = read_spec(path, flags->job_json, err, errlen);
	if (!doc)
		return -1;
	if (overlay(doc, flags, positional, from, err, errlen) < 0) {
		cJSON_Delete(doc);
		return -1;
	}
	if (jobspec_from_json(doc, job, err, errlen) < 0) {
		char detail[400];
		snprintf(detail, sizeof detail, "%s", err);
		snprintf(err, errlen, "job spec%s%s: %s", path ? " " : "", path ? path : "", detail);
		return -1;
	}
	return 0;
}
