/* ticket-sharer: keeps a valid Kerberos ticket cache on a shared volume, from the host's ticket
 * (share) or from a keytab (renew), for every container that mounts the volume read-only.
 * This file holds the command tables (the manual) and the log/JSON helpers the commands share. */
#include <stdio.h>
#include <time.h>

#include "log.h"
#include "sharer.h"

struct ts_opts ts_opts = {
	.source = TS_DEFAULT_SOURCE,
	.target = TS_DEFAULT_TARGET,
	.mode = "0640",
	.renew_at = "80%",
	.interval_ms = 300000,
	.warn_before_ms = 3600000,
	.settle_ms = 100,
	.min_left_ms = 600000,
};

#define OPT_TARGET                                                                                                     \
	{                                                                                                              \
		"target", 0, OPT_STRING, &ts_opts.target, "PATH",                                                      \
		        "the published cache (default " TS_DEFAULT_TARGET ", the platform_kerberos_cache volume)", 0   \
	}
#define OPT_PUBLISH                                                                                                      \
	OPT_TARGET, { "group",    0,                                                                                     \
		      OPT_STRING, &ts_opts.group,                                                                        \
		      "GROUP",    "group of the published file, a name or number (default: this process's group)",       \
		      0 },                                                                                               \
	        { "mode", 0, OPT_STRING, &ts_opts.mode, "MODE", "permissions of the published file (default 0640)", 0 }, \
	        { "interval",                                                                                            \
		  0,                                                                                                     \
		  OPT_DURATION,                                                                                          \
		  &ts_opts.interval_ms,                                                                                  \
		  "DURATION",                                                                                            \
		  "re-check at least this often (default 300s)",                                                         \
		  0 },                                                                                                   \
	        { "warn-before",                                                                                         \
		  0,                                                                                                     \
		  OPT_DURATION,                                                                                          \
		  &ts_opts.warn_before_ms,                                                                               \
		  "DURATION",                                                                                            \
		  "warn when less than this is left of the ticket (default 1h)",                                         \
		  0 },                                                                                                   \
	{                                                                                                                \
		"once", 0, OPT_BOOL, &ts_opts.once, NULL, "publish once and exit (init containers, cron)", 0             \
	}

static const struct opt share_opts[] = {
	{ "source", 0, OPT_STRING, &ts_opts.source, "CCACHE",
	  "FILE:PATH, DIR:PATH or a folder of caches (default " TS_DEFAULT_SOURCE ")", 0 },
	{ "principal", 0, OPT_STRING, &ts_opts.principal, "NAME", "publish only tickets of this principal (user@REALM)",
	  0 },
	OPT_PUBLISH,
	{ "settle", 0, OPT_DURATION, &ts_opts.settle_ms, "DURATION",
	  "after a change, wait this long for the writer to finish (default 100ms)", 0 },
	{ "host-path", 0, OPT_STRING, &ts_opts.host_path, "PATH",
	  "what the source folder is called on the host, for the kinit command in messages", 0 },
	{ 0 },
};

static const struct opt renew_opts[] = {
	{ "keytab", 0, OPT_STRING, &ts_opts.keytab, "KEYTAB",
	  "the keytab (default: KRB5_CLIENT_KTNAME, then the default client keytab)", 0 },
	{ "principal", 0, OPT_STRING, &ts_opts.principal, "NAME",
	  "who to log in as; _HOST becomes this host's name (default: the keytab's first principal)", 0 },
	{ "renew-at", 0, OPT_STRING, &ts_opts.renew_at, "PERCENT",
	  "renew when this much of the ticket's lifetime has passed (default 80%)", 0 },
	{ "lifetime", 0, OPT_DURATION, &ts_opts.lifetime_ms, "DURATION",
	  "ticket lifetime to ask for (default: krb5.conf's ticket_lifetime)", 0 },
	{ "renew-lifetime", 0, OPT_DURATION, &ts_opts.renew_life_ms, "DURATION",
	  "renewable lifetime to ask for (default: krb5.conf's renew_lifetime)", 0 },
	OPT_PUBLISH,
	{ "destroy-on-exit", 0, OPT_BOOL, &ts_opts.destroy_on_exit, NULL, "remove the published ticket when stopped",
	  0 },
	{ 0 },
};

static const struct opt check_opts[] = {
	OPT_TARGET,
	{ "min-left", 0, OPT_DURATION, &ts_opts.min_left_ms, "DURATION",
	  "healthy only when the ticket is valid for at least this long (default 10m)", 0 },
	{ "principal", 0, OPT_STRING, &ts_opts.principal, "NAME", "healthy only for this principal", 0 },
	{ 0 },
};

static const struct opt status_opts[] = {
	OPT_TARGET,
	{ 0 },
};

static const struct cmd cmd_share = {
	"ticket-sharer share",
	"[flags]",
	"follow the host's ticket cache and publish it (the compose default)",
	"Follows a source ticket cache and keeps a validated copy at the target.\n"
	"\n"
	"Source (--source):\n"
	"  FILE:PATH     one cache file\n"
	"  DIR:PATH      a cache collection; the cache named in PATH/primary\n"
	"  PATH          a file, or a folder: the newest cache in it holding a valid TGT\n"
	"  KCM:, KEYRING: and MEMORY: caches cannot be shared with containers; the error\n"
	"  says how to get a FILE cache instead (kinit -c FILE:PATH).\n"
	"\n"
	"A cache is published only when libkrb5 reads it completely, every byte of it parses,\n"
	"it holds a ticket-granting ticket that has not expired, and (with --principal) it\n"
	"names that principal. Expired, truncated, empty, garbage or unreadable sources are\n"
	"never published: the last good ticket stays until it expires, and the log says so.\n"
	"\n"
	"Publishing is atomic: a temporary file in the target's folder, group and mode set,\n"
	"fsync, rename over the target. Readers see the old or the new cache, never a mix.\n"
	"The source is re-checked every --interval and at once when its folder changes\n"
	"(inotify). SIGTERM or SIGINT stops it at once (exit 143 or 130); the published\n"
	"ticket stays.\n"
	"\n"
	"Example (a developer's machine; compose/docker-compose.yml does this):\n"
	"  kinit -c FILE:$HOME/.tinyrun/krb5/krb5cc you@EXAMPLE.COM\n"
	"  ticket-sharer share --source /krb5/host --host-path $HOME/.tinyrun/krb5\n"
	"\n"
	"Exit codes: 0 --once published; 2 bad flags or an unshareable source type; 3 (--once)\n"
	"no valid ticket in the source; 1 (--once) the target's folder is not writable;\n"
	"128+N stopped by signal N (143 SIGTERM, 130 SIGINT).\n",
	share_opts,
	NULL,
	ts_cmd_share
};

static const struct cmd cmd_renew = {
	"ticket-sharer renew",
	"[flags]",
	"get a ticket from a keytab, renew it and publish it (CI, servers)",
	"Logs in from a keytab into a private MEMORY: cache, publishes a copy at the target the\n"
	"same atomic way as share, and keeps it fresh: when --renew-at of the ticket's lifetime\n"
	"has passed it is renewed; when it cannot be renewed any more (not renewable, or\n"
	"renew-until reached) a new ticket comes from the keytab. A KDC that does not answer is\n"
	"retried every 30s while the published ticket stays. SIGTERM or SIGINT stops it at once,\n"
	"also while it waits for the KDC; the published ticket keeps the last good one.\n"
	"\n"
	"Example (an init container, then exit):\n"
	"  ticket-sharer renew --keytab /run/secrets/etl.keytab --principal etl/_HOST@EXAMPLE.COM --once\n"
	"\n"
	"Exit codes: 0 --once published; 2 bad flags or keytab; 3 the KDC refused the login\n"
	"(wrong key, unknown principal); 75 (--once) KDC unreachable; 1 the target's folder is\n"
	"not writable; 128+N stopped by signal N (143 SIGTERM, 130 SIGINT).\n",
	renew_opts,
	NULL,
	ts_cmd_renew
};

static const struct cmd cmd_check = {
	"ticket-sharer check",
	"[flags]",
	"exit 0 when the published ticket is valid (the healthcheck)",
	"Exit 0 when the published ticket is complete, names a principal, holds a TGT and is\n"
	"valid for at least --min-left; otherwise exit 3 with one line saying why. It is the\n"
	"container healthcheck (the image has no shell):\n"
	"  healthcheck: {test: [\"CMD\", \"/ticket-sharer\", \"check\"]}\n",
	check_opts,
	NULL,
	ts_cmd_check
};

static const struct cmd cmd_status = {
	"ticket-sharer status",
	"[flags]",
	"print the published ticket as JSON",
	"Prints the published ticket as one JSON object (the result line): principal, start,\n"
	"end, renew_until, flags, left_s, source (where the sharer got it), published (time),\n"
	"uid, gid, mode and valid. Exit 0 when valid, 3 when missing, invalid or expired.\n",
	status_opts,
	NULL,
	ts_cmd_status
};

static const struct cmd *const subcommands[] = { &cmd_share, &cmd_renew, &cmd_check, &cmd_status, NULL };

static const struct opt root_opts[] = { CLI_GLOBAL_OPTS, { 0 } };

static const struct cmd root = {
	"ticket-sharer",
	"[global flags] COMMAND [flags]",
	"keep a valid Kerberos ticket on a shared volume for every container",
	"Every container that talks to SQL Server or PostgreSQL with Kerberos reads the ticket\n"
	"cache FILE:/krb5/cache/krb5cc from the read-only volume platform_kerberos_cache.\n"
	"ticket-sharer keeps that file valid: `share` copies the host's ticket (a developer's\n"
	"kinit), `renew` gets and renews one from a keytab (CI, servers). The file is written\n"
	"atomically with mode 0640 and a configurable group, so consumers running as uid/gid\n"
	"65532 can read it and nobody else can.\n"
	"\n"
	"A consumer mounts the volume read-only and sets KRB5CCNAME=FILE:/krb5/cache/krb5cc\n"
	"(tinyrun runners use it by default when it exists).\n"
	"\n"
	"Every flag can also come from the environment: --some-flag from TINYRUN_SOME_FLAG\n"
	"(or a file named by TINYRUN_SOME_FLAG_FILE); flags win. KRB5_CONFIG and\n"
	"KRB5_CLIENT_KTNAME are honoured. The last line of output is the result JSON.\n"
	"\n"
	"Exit codes: 0 ok, 1 failed, 2 usage/configuration, 3 no valid ticket or login refused,\n"
	"75 KDC unreachable (retry), 128+N stopped by signal N (143 SIGTERM, 130 SIGINT).\n",
	root_opts,
	subcommands,
	NULL,
};

static void add_time(cJSON *o, const char *key, time_t t)
{
	char when[64];
	if (!t)
		return;
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	cJSON_AddStringToObject(o, key, when);
}

void ts_ticket_json(const struct krb_ticket *tk, void *object)
{
	cJSON *o = object;
	char flags[256];
	krb_flags_str(tk->flags, flags, sizeof flags);
	cJSON_AddStringToObject(o, "principal", tk->principal);
	add_time(o, "start", tk->start);
	add_time(o, "end", tk->end);
	add_time(o, "renew_until", tk->renew_until);
	cJSON_AddStringToObject(o, "flags", flags);
	cJSON_AddNumberToObject(o, "left_s", (double)(tk->end - time(NULL)));
}

void ts_log_ticket(const char *event, const struct krb_ticket *tk, const char *origin, const char *target,
                   long warn_before)
{
	cJSON *f = cJSON_CreateObject();
	ts_ticket_json(tk, f);
	cJSON_AddStringToObject(f, "source", origin);
	cJSON_AddStringToObject(f, "target", target);
	long left = (long)(tk->end - time(NULL));
	char when[64];
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&tk->end));
	log_event(warn_before && left * 1000 < warn_before ? LOG_LEVEL_WARN : LOG_LEVEL_INFO, event, f,
	          "%s the ticket of %s from %s at %s: valid until %s (%ldh%02ldm left)", event, tk->principal, origin,
	          target, when, left / 3600, left % 3600 / 60);
}

int main(int argc, char **argv)
{
	return cli_main(&root, argc, argv);
}
