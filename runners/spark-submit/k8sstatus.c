/* k8sstatus: a line-by-line reader of the Kubernetes submission client's status reports. */
#include "k8sstatus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

enum block { BLOCK_NONE, BLOCK_STATE, BLOCK_FINAL };

#define LINE_MAX_PARSED 8192

void k8s_status_init(struct k8s_status *s)
{
	memset(s, 0, sizeof *s);
}

/* Copy at most len bytes of src into dst (size n), NUL-terminated. */
static void copy_field(char *dst, size_t n, const char *src, size_t len)
{
	if (len >= n)
		len = n - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* The token after marker in line (up to a blank), copied into dst. */
static void take_token(const char *line, const char *marker, char *dst, size_t n)
{
	const char *p = strstr(line, marker);
	if (!p)
		return;
	p += strlen(marker);
	size_t len = strcspn(p, " \t\r)");
	if (len)
		copy_field(dst, n, p, len);
}

static void container_field(struct k8s_status *s, const char *key, const char *value)
{
	if (strcmp(key, "container name") == 0) {
		if (s->n_containers == K8S_MAX_CONTAINERS)
			return;
		struct k8s_container *c = &s->containers[s->n_containers++];
		memset(c, 0, sizeof *c);
		copy_field(c->name, sizeof c->name, value, strlen(value));
		return;
	}
	if (!s->n_containers)
		return;
	struct k8s_container *c = &s->containers[s->n_containers - 1];
	if (strcmp(key, "container state") == 0)
		copy_field(c->state, sizeof c->state, value, strlen(value));
	else if (strcmp(key, "termination reason") == 0)
		copy_field(c->reason, sizeof c->reason, value, strlen(value));
	else if (strcmp(key, "exit code") == 0) {
		char *end;
		long code = strtol(value, &end, 10);
		if (end != value && !*end && code >= -2147483647L && code <= 2147483647L) {
			c->exit_code = (int)code;
			c->has_exit_code = true;
		}
	}
}

/* "\t key: value" inside a multi-line message. */
static void pair_line(struct k8s_status *s, const char *text)
{
	text += strspn(text, " \t");
	const char *sep = strstr(text, ": ");
	char key[64];
	const char *value;
	if (sep) {
		copy_field(key, sizeof key, text, (size_t)(sep - text));
		value = sep + 2;
	} else {
		size_t len = strlen(text);
		if (!len || text[len - 1] != ':')
			return;
		copy_field(key, sizeof key, text, len - 1);
		value = "";
	}
	if (strcmp(value, "N/A") == 0)
		value = "";
	if (s->block == BLOCK_FINAL)
		container_field(s, key, value);
	else if (s->block == BLOCK_STATE && strcmp(key, "phase") == 0 && *value)
		copy_field(s->phase, sizeof s->phase, value, strlen(value));
}

/* The first line of a log record. */
static void record_line(struct k8s_status *s, const char *text)
{
	s->block = BLOCK_NONE;
	if (strstr(text, "Container final statuses:")) {
		s->block = BLOCK_FINAL;
		s->final_seen = true;
		s->n_containers = 0;
	} else if (strstr(text, "No containers were found in the driver pod.")) {
		s->final_seen = true;
		s->n_containers = 0;
	} else if (strstr(text, "State changed, new state:"))
		s->block = BLOCK_STATE;
	take_token(text, "with application ID ", s->app_id, sizeof s->app_id);
	take_token(text, "with app ID ", s->app_id, sizeof s->app_id);
	take_token(text, "submission ID ", s->submission_id, sizeof s->submission_id);
	take_token(text, "(phase: ", s->phase, sizeof s->phase);
	if (strstr(text, "Application ") && strstr(text, " finished"))
		s->finished = true;
}

static void text_line(struct k8s_status *s, const char *text)
{
	if (!*text)
		return; /* the blank lines inside a message */
	if (*text == '\t' || *text == ' ')
		pair_line(s, text);
	else
		record_line(s, text);
}

/* A structured-logging record: its "msg", line by line. */
static void json_record(struct k8s_status *s, const char *line, size_t len)
{
	cJSON *rec = cJSON_ParseWithLength(line, len);
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(rec, "msg");
	if (cJSON_IsString(msg)) {
		bool first = true;
		for (char *p = msg->valuestring; p;) {
			char *nl = strchr(p, '\n');
			if (nl)
				*nl = '\0';
			if (first)
				record_line(s, p);
			else
				text_line(s, p);
			first = false;
			p = nl ? nl + 1 : NULL;
		}
	}
	cJSON_Delete(rec);
}

void k8s_status_line(struct k8s_status *s, const char *line, size_t len)
{
	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	if (len && line[0] == '{') {
		json_record(s, line, len);
		return;
	}
	char text[LINE_MAX_PARSED];
	copy_field(text, sizeof text, line, len);
	text_line(s, text);
}

const struct k8s_container *k8s_status_driver(const struct k8s_status *s, const char *name)
{
	for (size_t i = 0; i < s->n_containers; i++)
		if (strcmp(s->containers[i].name, name) == 0)
			return &s->containers[i];
	return s->n_containers == 1 ? &s->containers[0] : NULL;
}

int k8s_status_exit(const struct k8s_status *s, const char *name, char *why, size_t whylen)
{
	const struct k8s_container *c = k8s_status_driver(s, name);
	if (!s->final_seen)
		snprintf(why, whylen, "the submission client reported no final status of the driver pod");
	else if (!c)
		snprintf(why, whylen, "the final status names no driver container '%s'", name);
	else if (strcmp(c->state, "terminated") != 0 || !c->has_exit_code)
		snprintf(why, whylen, "the driver container was %s, not terminated, when the pod ended",
		         *c->state ? c->state : "in no known state");
	else if (c->exit_code == 0 && strcmp(s->phase, "Failed") == 0)
		return 1; /* the driver exited 0 but the pod failed (a sidecar, an eviction) */
	else
		return c->exit_code >= 0 && c->exit_code <= 255 ? c->exit_code : 1;
	return -1;
}
