/* check and status: what the published ticket is worth, for healthchecks and people. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "exitcode.h"
#include "log.h"
#include "result.h"
#include "sharer.h"

static int parse_target(const struct cmd *cmd, int argc, char **argv, struct target *t)
{
	struct strlist rest = { 0 };
	char err[1024];
	int rc = cli_parse(cmd, argc, argv, &rest);
	if (rc == 0 && rest.len)
		rc = result_fail(TR_EXIT_USAGE, "usage", "%s takes no arguments; see --help", cmd->name);
	strlist_free(&rest);
	if (ts_opts.principal && !*ts_opts.principal)
		ts_opts.principal = NULL;
	if (rc == 0 && (rc = target_parse(ts_opts.target, "0640", NULL, t, err, sizeof err)))
		rc = result_fail(rc, "config", "%s", err);
	return rc;
}

int ts_cmd_check(const struct cmd *cmd, int argc, char **argv)
{
	struct target t;
	struct krb_ticket tk;
	char err[2048];
	int rc = parse_target(cmd, argc, argv, &t);
	if (rc)
		return rc;
	rc = cachefile_check(t.path, ts_opts.principal, ts_opts.min_left_ms / 1000, &tk, err, sizeof err);
	if (rc)
		return result_fail(rc, "unhealthy", "%s; see the ticket-sharer's log for what to do", err);
	ts_ticket_json(&tk, result_object());
	return TR_EXIT_OK;
}

int ts_cmd_status(const struct cmd *cmd, int argc, char **argv)
{
	struct target t;
	struct krb_ticket tk;
	struct stat st;
	char err[2048], source[4400], when[64];
	int rc = parse_target(cmd, argc, argv, &t);
	if (rc)
		return rc;
	rc = cachefile_check(t.path, ts_opts.principal, 0, &tk, err, sizeof err);
	cJSON *r = result_object();
	cJSON_AddStringToObject(r, "target", t.path);
	cJSON_AddBoolToObject(r, "valid", rc == TR_EXIT_OK);
	if (tk.principal[0])
		ts_ticket_json(&tk, r);
	char name[4200];
	snprintf(name, sizeof name, "FILE:%s", t.path);
	if (tk.principal[0] && krb_ccache_config(name, TS_CONFIG_KEY, source, sizeof source) == 0)
		cJSON_AddStringToObject(r, "source", source);
	if (stat(t.path, &st) == 0) {
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&st.st_mtime));
		cJSON_AddStringToObject(r, "published", when);
		cJSON_AddNumberToObject(r, "uid", st.st_uid);
		cJSON_AddNumberToObject(r, "gid", st.st_gid);
		snprintf(when, sizeof when, "%04o", (unsigned)(st.st_mode & 07777));
		cJSON_AddStringToObject(r, "mode", when);
	}
	return rc ? result_fail(rc, "invalid", "%s", err) : TR_EXIT_OK;
}
