/* jobspec: reading and checking a Spark job spec. */
#include "jobspec.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "conn.h"

enum field_kind { F_STRING, F_COUNT, F_MEMORY, F_MAP, F_LIST, F_CONNS };

struct field {
	const char *name;
	enum field_kind kind;
	size_t offset;
};

#define FIELD(n, k, member)                                                                                            \
	{                                                                                                              \
		n, k, offsetof(struct spark_job, member)                                                               \
	}
static const struct field fields[] = {
	FIELD("name", F_STRING, name),
	FIELD("application", F_STRING, application),
	FIELD("main_class", F_STRING, main_class),
	FIELD("master", F_STRING, master),
	FIELD("deploy_mode", F_STRING, deploy_mode),
	FIELD("driver_memory", F_MEMORY, driver_memory),
	FIELD("executor_memory", F_MEMORY, executor_memory),
	FIELD("driver_cores", F_COUNT, driver_cores),
	FIELD("executor_cores", F_COUNT, executor_cores),
	FIELD("num_executors", F_COUNT, num_executors),
	FIELD("conf", F_MAP, conf),
	FIELD("env", F_MAP, env),
	FIELD("jars", F_LIST, jars),
	FIELD("py_files", F_LIST, py_files),
	FIELD("files", F_LIST, files),
	FIELD("args", F_LIST, args),
	FIELD("connections", F_CONNS, connections),
};
#define N_FIELDS (sizeof fields / sizeof *fields)

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* 512m, 2g, 1024 (Spark's JVM memory strings). */
static bool is_memory(const char *s)
{
	size_t digits = strspn(s, "0123456789");
	if (!digits)
		return false;
	s += digits;
	if (*s && strchr("kKmMgGtTpP", *s))
		s++;
	if (*s == 'b' || *s == 'B')
		s++;
	return !*s;
}

static bool is_identifier(const char *s)
{
	if (!*s || isdigit((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

static int read_map(const char *field, cJSON *item, struct kvlist *out, char *err, size_t errlen)
{
	if (!cJSON_IsObject(item)) {
		snprintf(err, errlen, "'%s' must be an object of name: value", field);
		return -1;
	}
	for (cJSON *e = item->child; e; e = e->next) {
		char scratch[64];
		const char *value = conn_json_scalar(e, scratch, sizeof scratch);
		bool conf = strcmp(field, "conf") == 0;
		if (!value || strchr(value, '\n')) {
			snprintf(err, errlen, "'%s.%s' must be a one-line string, number or boolean", field, e->string);
			return -1;
		}
		if (conf ? strncmp(e->string, "spark.", 6) != 0 || strchr(e->string, '=') : !is_identifier(e->string)) {
			snprintf(err, errlen,
			         conf ? "'conf' key '%s' is not a Spark setting (spark.*)"
			              : "'env' name '%s' is not a variable name",
			         e->string);
			return -1;
		}
		strlist_push(&out->keys, e->string);
		strlist_push(&out->values, value);
	}
	return 0;
}

static int read_list(const struct field *f, cJSON *item, struct strlist *out, char *err, size_t errlen)
{
	if (!cJSON_IsArray(item)) {
		snprintf(err, errlen, "'%s' must be a list", f->name);
		return -1;
	}
	for (cJSON *e = item->child; e; e = e->next) {
		char scratch[64];
		const char *value = conn_json_scalar(e, scratch, sizeof scratch);
		bool ok = value && (f->kind == F_CONNS ? is_identifier(value) || isdigit((unsigned char)*value)
		                                       : f->kind == F_LIST && (*value || strcmp(f->name, "args") == 0));
		if (ok && f->kind == F_LIST && strcmp(f->name, "args") != 0 && strchr(value, ','))
			ok = false; /* spark-submit joins these with commas */
		if (!ok) {
			snprintf(err, errlen, "'%s' holds %s", f->name,
			         f->kind == F_CONNS ? "a connection ID that is not letters, digits and _"
			                            : "an empty entry, a comma or a value that is not a string");
			return -1;
		}
		strlist_push(out, value);
	}
	return 0;
}

static int read_field(const struct field *f, cJSON *item, struct spark_job *job, char *err, size_t errlen)
{
	void *dest = (char *)job + f->offset;
	switch (f->kind) {
	case F_STRING:
	case F_MEMORY:
		if (!cJSON_IsString(item) || !*item->valuestring ||
		    (f->kind == F_MEMORY && !is_memory(item->valuestring))) {
			snprintf(err, errlen, "'%s' must be %s", f->name,
			         f->kind == F_MEMORY ? "a memory size such as 512m or 2g" : "a non-empty string");
			return -1;
		}
		*(const char **)dest = item->valuestring;
		return 0;
	case F_COUNT:
		if (!cJSON_IsNumber(item) || item->valuedouble < 1 || item->valuedouble > 100000 ||
		    item->valuedouble != (double)(long)item->valuedouble) {
			snprintf(err, errlen, "'%s' must be a whole number from 1", f->name);
			return -1;
		}
		*(long *)dest = (long)item->valuedouble;
		return 0;
	case F_MAP: return read_map(f->name, item, dest, err, errlen);
	default: return read_list(f, item, dest, err, errlen);
	}
}

static bool valid_master(const char *m)
{
	if (strcmp(m, "local") == 0)
		return true;
	if (strncmp(m, "local[", 6) == 0)
		return ends_with(m, "]") && strlen(m) > 7 && strspn(m + 6, "0123456789*,") == strlen(m) - 7;
	return (strncmp(m, "spark://", 8) == 0 && m[8]) || (strncmp(m, "k8s://", 6) == 0 && m[6]);
}

/* What fits together: checked after every field was read. */
static int check_job(const struct spark_job *job, char *err, size_t errlen)
{
	const char *app = job->application;
	if (!app)
		snprintf(err, errlen, "'application' is missing: the .py or .jar to run");
	else if (!ends_with(app, ".py") && !ends_with(app, ".jar"))
		snprintf(err, errlen, "'application' must be a .py or a .jar, not '%s'", app);
	else if (ends_with(app, ".jar") && !job->main_class)
		snprintf(err, errlen, "'main_class' is missing: a .jar application needs its main class");
	else if (ends_with(app, ".py") && job->main_class)
		snprintf(err, errlen, "'main_class' is for .jar applications; '%s' is Python", app);
	else if (!job->master)
		snprintf(err, errlen, "'master' is missing: local[N], spark://HOST:PORT or k8s://https://HOST");
	else if (!valid_master(job->master))
		snprintf(err, errlen, "'master' must be local[N], spark://HOST:PORT or k8s://https://HOST, not '%s'",
		         job->master);
	else if (strcmp(job->deploy_mode, "client") != 0 && strcmp(job->deploy_mode, "cluster") != 0)
		snprintf(err, errlen, "'deploy_mode' must be client or cluster, not '%s'", job->deploy_mode);
	else if (jobspec_master_kind(job) == MASTER_LOCAL && jobspec_cluster_mode(job))
		snprintf(err, errlen, "'deploy_mode' cluster needs a cluster master, not '%s'", job->master);
	else
		return 0;
	return -1;
}

static const struct field *find_field(const char *name)
{
	for (size_t i = 0; i < N_FIELDS; i++)
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	return NULL;
}

int jobspec_from_json(cJSON *doc, struct spark_job *job, char *err, size_t errlen)
{
	memset(job, 0, sizeof *job);
	job->doc = doc;
	job->deploy_mode = "client";
	if (!cJSON_IsObject(doc)) {
		snprintf(err, errlen, "the job spec must be a JSON object");
		return -1;
	}
	for (cJSON *item = doc->child; item; item = item->next) {
		const struct field *f = find_field(item->string);
		if (!f) {
			snprintf(err, errlen,
			         "unknown field '%.60s' (fields: name, application, main_class, master, "
			         "deploy_mode, conf, env, jars, py_files, files, args, connections, "
			         "driver_memory, driver_cores, executor_memory, executor_cores, num_executors)",
			         item->string);
			return -1;
		}
		if (read_field(f, item, job, err, errlen) < 0)
			return -1;
	}
	return check_job(job, err, errlen);
}

int jobspec_parse(const char *text, size_t len, struct spark_job *job, char *err, size_t errlen)
{
	const char *end = NULL;
	cJSON *doc = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!doc) {
		size_t at = end && end >= text ? (size_t)(end - text) : 0;
		memset(job, 0, sizeof *job);
		snprintf(err, errlen, "the job spec is not valid JSON (near byte %zu)", at);
		return -1;
	}
	return jobspec_from_json(doc, job, err, errlen);
}

enum master_kind jobspec_master_kind(const struct spark_job *job)
{
	if (strncmp(job->master, "k8s://", 6) == 0)
		return MASTER_K8S;
	return strncmp(job->master, "spark://", 8) == 0 ? MASTER_STANDALONE : MASTER_LOCAL;
}

bool jobspec_cluster_mode(const struct spark_job *job)
{
	return strcmp(job->deploy_mode, "cluster") == 0;
}

static void kvlist_free(struct kvlist *l)
{
	strlist_free(&l->keys);
	strlist_free(&l->values);
}

void jobspec_free(struct spark_job *job)
{
	kvlist_free(&job->conf);
	kvlist_free(&job->env);
	strlist_free(&job->jars);
	strlist_free(&job->py_files);
	strlist_free(&job->files);
	strlist_free(&job->args);
	strlist_free(&job->connections);
	cJSON_Delete(job->doc);
	memset(job, 0, sizeof *job);
}
