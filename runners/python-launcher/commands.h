/* commands: the python-launcher subcommands, one file each (cmd_*.c), and the snapshot flags
 * that run and fetch share. */
#ifndef PL_COMMANDS_H
#define PL_COMMANDS_H

#include "cli.h"
#include "snapshot.h"

extern const struct cmd cmd_run, cmd_fetch, cmd_gc;

/* The snapshot flags (cmd_fetch.c), and the cache folder they name: --cache, else
 * <workdir>/tinyrun-snapshots. */
extern struct snapshot_opts snap;
extern const char *snap_cache;
extern long snap_connect_timeout_ms, snap_retries;
const char *snapshot_cache_dir(void);
/* Complete snap from the parsed flags. */
void snapshot_flags_apply(void);

/* clang-format off */
#define SNAPSHOT_OPTS                                                                              \
	{ "code", 0, OPT_STRING, &snap.code, "URL",                                                 \
	  "the code snapshot: https://.../x.tar.gz, or file:///path (an archive or an unpacked folder)", 0 }, \
	{ "code-sha256", 0, OPT_STRING, &snap.sha256, "HEX",                                       \
	  "the snapshot's SHA-256 (required for remote code; a mismatch is exit 2)", 0 },           \
	{ "allow-http", 0, OPT_BOOL, &snap.http.allow_http, NULL, "allow plain http:// URLs", 0 },   \
	{ "cacert", 0, OPT_STRING, &snap.http.cacert, "FILE",                                      \
	  "CA bundle for https (default /etc/ssl/certs/ca-certificates.crt)", 0 },                 \
	{ "token-file", 0, OPT_STRING, &snap.token_file, "FILE",                                   \
	  "a file holding a bearer token for the download", 0 },                                    \
	{ "cache", 0, OPT_STRING, &snap_cache, "DIR",                                              \
	  "the snapshot cache (default <workdir>/tinyrun-snapshots)", 0 },                         \
	{ "max-size", 0, OPT_INT, &snap.max_size, "BYTES",                                         \
	  "largest archive, and largest total of unpacked files (default 1 GiB)", 0 },             \
	{ "connect-timeout", 0, OPT_DURATION, &snap_connect_timeout_ms, "DURATION",                \
	  "per connection attempt (default 10s)", 0 },                                              \
	{ "retries", 0, OPT_INT, &snap_retries, "N",                                                \
	  "extra download attempts on temporary errors, with backoff (default 4)", 0 }
/* clang-format on */

#endif
