/* sparkcmd: building the spark-submit command line. */
#include "sparkcmd.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* Conf the platform sets; a job may not. */
static const char *const policy_keys[] = {
	"spark.kubernetes.namespace",
	"spark.kubernetes.authenticate.driver.serviceAccountName",
	"spark.kubernetes.authenticate.executor.serviceAccountName",
	"spark.kubernetes.container.image",
	"spark.kubernetes.driver.container.image",
	"spark.kubernetes.executor.container.image",
	"spark.kubernetes.submission.waitAppCompletion",
	"spark.kubernetes.driver.podTemplateFile",
	"spark.kubernetes.executor.podTemplateFile",
	NULL,
};

/* Conf that names a secret instead of holding one. */
static const char *const secret_ref_prefixes[] = {
	"spark.kubernetes.driver.secretKeyRef.",
	"spark.kubernetes.executor.secretKeyRef.",
	"spark.kubernetes.driver.secrets.",
	"spark.kubernetes.executor.secrets.",
	NULL,
};

static const char *const secret_words[] = { "password",   "secret",    "token",       "credential",
	                                    "access.key", "accesskey", "private.key", NULL };

static bool has_prefix(const char *s, const char *const *prefixes)
{
	for (size_t i = 0; prefixes[i]; i++)
		if (strncmp(s, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

static bool looks_secret(const char *key)
{
	char lower[256];
	size_t n = 0;
	for (; key[n] && n < sizeof lower - 1; n++)
		lower[n] = (char)tolower((unsigned char)key[n]);
	lower[n] = '\0';
	for (size_t i = 0; secret_words[i]; i++)
		if (strstr(lower, secret_words[i]))
			return !has_prefix(key, secret_ref_prefixes);
	return false;
}

static int check_conf(const struct spark_job *job, char *err, size_t errlen)
{
	for (size_t i = 0; i < job->conf.keys.len; i++) {
		const char *key = job->conf.keys.items[i];
		for (size_t k = 0; policy_keys[k]; k++)
			if (strcmp(key, policy_keys[k]) == 0) {
				snprintf(err, errlen,
				         "conf '%s' is set by the platform (the --k8s-* settings), not by a job", key);
				return -1;
			}
		if (looks_secret(key)) {
			snprintf(err, errlen,
			         "conf '%s' looks like a secret: Spark logs its conf; pass secrets as "
			         "connections (--conn) or Kubernetes secret references (secretKeyRef)",
			         key);
			return -1;
		}
	}
	return 0;
}

static bool pinned_image(const char *image)
{
	const char *at = strstr(image, "@sha256:");
	return at && at != image && strlen(at + 8) == 64 && strspn(at + 8, "0123456789abcdef") == 64;
}

static int check_policy(const struct k8s_policy *pol, char *err, size_t errlen)
{
	if (!pol->namespace_name || !pol->service_account || !pol->image)
		snprintf(err, errlen,
		         "a k8s:// master needs the platform's --k8s-namespace, --k8s-service-account and "
		         "--k8s-image (TINYRUN_K8S_NAMESPACE, ...)");
	else if (!pinned_image(pol->image))
		snprintf(err, errlen, "--k8s-image must be pinned by digest (NAME@sha256:<64 hex>), not '%s'",
		         pol->image);
	else
		return 0;
	return -1;
}

static void push_conf(struct strlist *argv, const char *key, const char *value)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s=%s", key, value);
	strlist_push(argv, "--conf");
	strlist_push(argv, buf_str(&b));
	buf_free(&b);
}

static void push_conf_named(struct strlist *argv, const char *prefix, const char *name, const char *value)
{
	struct buf key = BUF_INIT;
	buf_printf(&key, "%s%s", prefix, name);
	push_conf(argv, buf_str(&key), value);
	buf_free(&key);
}

static void push_joined(struct strlist *argv, const char *flag, const struct strlist *items)
{
	if (!items->len)
		return;
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < items->len; i++)
		buf_printf(&b, "%s%s", i ? "," : "", items->items[i]);
	strlist_push(argv, flag);
	strlist_push(argv, buf_str(&b));
	buf_free(&b);
}

static void push_count(struct strlist *argv, const char *key, long n)
{
	char text[32];
	if (!n)
		return;
	snprintf(text, sizeof text, "%ld", n);
	push_conf(argv, key, text);
}

char *sparkcmd_secret_name(const char *prefix, const char *id)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, prefix);
	for (const char *p = id; *p; p++)
		buf_putc(&b, *p == '_' ? '-' : (char)tolower((unsigned char)*p));
	return buf_detach(&b);
}

/* The platform's settings, and what a driver in the cluster must receive as environment. */
static void push_k8s(struct strlist *argv, const struct spark_job *job, const struct k8s_policy *pol,
                     const struct kvlist *jdbc)
{
	push_conf(argv, "spark.kubernetes.namespace", pol->namespace_name);
	push_conf(argv, "spark.kubernetes.authenticate.driver.serviceAccountName", pol->service_account);
	push_conf(argv, "spark.kubernetes.container.image", pol->image);
	push_conf(argv, "spark.kubernetes.submission.waitAppCompletion", "true");
	if (pol->driver_pod_template)
		push_conf(argv, "spark.kubernetes.driver.podTemplateFile", pol->driver_pod_template);
	if (pol->executor_pod_template)
		push_conf(argv, "spark.kubernetes.executor.podTemplateFile", pol->executor_pod_template);
	bool cluster = jobspec_cluster_mode(job);
	for (size_t i = 0; i < job->connections.len; i++) {
		const char *id = job->connections.items[i];
		char *secret = sparkcmd_secret_name(pol->conn_secret_prefix, id), *ref = NULL, *var = NULL;
		struct buf b = BUF_INIT;
		buf_printf(&b, "%s:uri", secret);
		ref = buf_detach(&b);
		buf_puts(&b, "AIRFLOW_CONN_");
		for (const char *p = id; *p; p++)
			buf_putc(&b, (char)toupper((unsigned char)*p));
		var = buf_detach(&b);
		if (cluster)
			push_conf_named(argv, "spark.kubernetes.driver.secretKeyRef.", var, ref);
		push_conf_named(argv, "spark.kubernetes.executor.secretKeyRef.", var, ref);
		free(secret);
		free(ref);
		free(var);
	}
	const struct kvlist *lists[] = { &job->env, jdbc };
	for (size_t l = 0; l < 2; l++)
		for (size_t i = 0; i < lists[l]->keys.len; i++) {
			if (cluster)
				push_conf_named(argv, "spark.kubernetes.driverEnv.", lists[l]->keys.items[i],
				                lists[l]->values.items[i]);
			push_conf_named(argv, "spark.executorEnv.", lists[l]->keys.items[i], lists[l]->values.items[i]);
		}
}

static void push_resources(struct strlist *argv, const struct spark_job *job)
{
	if (job->driver_memory) {
		strlist_push(argv, "--driver-memory");
		strlist_push(argv, job->driver_memory);
	}
	if (job->executor_memory) {
		strlist_push(argv, "--executor-memory");
		strlist_push(argv, job->executor_memory);
	}
	push_count(argv, "spark.driver.cores", job->driver_cores);
	push_count(argv, "spark.executor.cores", job->executor_cores);
	push_count(argv, "spark.executor.instances", job->num_executors);
}

int sparkcmd_build(const char *spark_submit, const struct spark_job *job, const struct k8s_policy *pol,
                   const struct kvlist *jdbc, struct strlist *argv, char *err, size_t errlen)
{
	bool k8s = jobspec_master_kind(job) == MASTER_K8S;
	if (check_conf(job, err, errlen) < 0 || (k8s && check_policy(pol, err, errlen) < 0))
		return -1;
	strlist_push(argv, spark_submit);
	const char *const head[] = { "--master", job->master, "--deploy-mode", job->deploy_mode };
	for (size_t i = 0; i < 4; i++)
		strlist_push(argv, head[i]);
	if (job->name) {
		strlist_push(argv, "--name");
		strlist_push(argv, job->name);
	}
	if (job->main_class) {
		strlist_push(argv, "--class");
		strlist_push(argv, job->main_class);
	}
	push_joined(argv, "--jars", &job->jars);
	push_joined(argv, "--py-files", &job->py_files);
	push_joined(argv, "--files", &job->files);
	push_resources(argv, job);
	for (size_t i = 0; i < job->conf.keys.len; i++)
		push_conf(argv, job->conf.keys.items[i], job->conf.values.items[i]);
	if (k8s)
		push_k8s(argv, job, pol, jdbc);
	strlist_push(argv, job->application);
	for (size_t i = 0; i < job->args.len; i++)
		strlist_push(argv, job->args.items[i]);
	return 0;
}
