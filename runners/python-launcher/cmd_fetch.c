/* cmd_fetch: `python-launcher fetch`, the snapshot part alone (a Kubernetes init container fills
 * a shared volume; the main container then finds it there), and the snapshot flags' defaults. */
#include <stdio.h>
#include <stdlib.h>

#include "buf.h"
#include "commands.h"
#include "exitcode.h"
#include "result.h"

struct snapshot_opts snap = { .max_size = 1L << 30, .max_entries = 100000 };
const char *snap_cache;
long snap_connect_timeout_ms = 10000, snap_retries = 4;

const char *snapshot_cache_dir(void)
{
	static struct buf dflt = BUF_INIT;
	if (snap_cache)
		return snap_cache;
	if (!dflt.len)
		buf_printf(&dflt, "%s/tinyrun-snapshots", cli_globals.workdir ? cli_globals.workdir : "/tmp");
	return buf_str(&dflt);
}

void snapshot_flags_apply(void)
{
	snap.cache = snapshot_cache_dir();
	snap.http.connect_timeout_ms = snap_connect_timeout_ms;
	snap.http.retries = snap_retries < 0 ? 0 : (int)snap_retries;
	snap.http.max_size = snap.max_size > 0 ? (uint64_t)snap.max_size : 0;
}

static int fetch_main(const struct cmd *cmd, int argc, char **argv)
{
	struct strlist args = { 0 };
	int rc = cli_parse(cmd, argc, argv, &args);
	if (rc == TR_EXIT_OK && args.len)
		rc = result_fail(TR_EXIT_USAGE, "usage", "fetch takes no arguments; see '%s --help'", cmd->name);
	if (rc == TR_EXIT_OK && !snap.code)
		rc = result_fail(TR_EXIT_USAGE, "usage", "--code is required; see '%s --help'", cmd->name);
	strlist_free(&args);
	if (rc != TR_EXIT_OK)
		return rc;
	snapshot_flags_apply();
	char *dir = NULL;
	rc = snapshot_get(&snap, &dir, result_object());
	if (rc == TR_EXIT_OK)
		cJSON_AddStringToObject(result_object(), "snapshot_dir", dir);
	free(dir);
	return rc;
}

/* clang-format off */
static const struct opt fetch_opts[] = { SNAPSHOT_OPTS, { 0 } };

const struct cmd cmd_fetch = {
	.name = "python-launcher fetch",
	.usage = "--code URL [--code-sha256 HEX] [flags]",
	.summary = "fetch, verify and unpack a snapshot into the cache, and run nothing",
	.description =
		"For a Kubernetes init container that fills a shared emptyDir: the main container then runs\n"
		"with the same --code, --code-sha256 and --cache and finds the snapshot there (a cache hit\n"
		"downloads nothing). The result names the folder (snapshot_dir).\n"
		"\n"
		"Example:\n"
		"  python-launcher fetch --cache /snapshots --code https://code.example/etl-1.4.tar.gz \\\n"
		"      --code-sha256 9f2c...e1\n",
	.opts = fetch_opts,
	.run = fetch_main,
};
/* clang-format on */
