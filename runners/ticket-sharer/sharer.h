/* sharer: what the ticket-sharer modules share: the settings of a run, the strict cache file
 * parser (ccfile.c, pure: unit tests and fuzzing), reading and checking cache files (cachefile.c),
 * source discovery (source.c), atomic publishing (publish.c), the wait loop (watch.c) and the
 * subcommands (share.c, renew.c, check.c; main.c holds the command tables and the manual). */
#ifndef TS_SHARER_H
#define TS_SHARER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cli.h"
#include "krb.h"

#define TS_DEFAULT_TARGET "/krb5/cache/krb5cc"
#define TS_DEFAULT_SOURCE "/krb5/host"
#define TS_CONFIG_KEY     "tinyrun_source"  /* cache config entry naming where a published ticket came from */
#define TS_MAX_CACHE      ((size_t)1 << 20) /* a bigger file is not a ticket cache */

/* Settings of share and renew (flags or TINYRUN_* env), see main.c for the manual. */
struct ts_opts {
	const char *source, *target, *principal, *group, *mode, *host_path;
	const char *keytab, *renew_at;
	long interval_ms, warn_before_ms, settle_ms, min_left_ms, lifetime_ms, renew_life_ms;
	bool once, destroy_on_exit;
};
extern struct ts_opts ts_opts;

/* ccfile: a strict parser of the FILE ticket cache format (versions 3 and 4). Unlike libkrb5,
 * which takes a cache cut between two entries for a shorter cache, it requires every byte to
 * belong to a complete entry. Returns 0, or -1 with err naming the offset. */
int ccfile_parse(const unsigned char *data, size_t len, size_t *entries, char *err, size_t errlen);

/* cachefile: read a cache file whole (at most TS_MAX_CACHE). TR_EXIT_OK, or TR_EXIT_AUTH with err and the fix. */
int cachefile_read(const char *path, char **data, size_t *len, char *err, size_t errlen);
/* Strict check of a cache file: read, parse, then the krb5 API check. TR_EXIT_OK or TR_EXIT_AUTH. */
int cachefile_check(const char *path, const char *want, long min_left, struct krb_ticket *tk, char *err, size_t errlen);

/* source: what --source names. */
enum src_kind { SRC_FILE, SRC_DIR, SRC_FOLDER };
struct source {
	enum src_kind kind;
	char path[4096];  /* the file, the DIR: collection or the folder */
	char watch[4096]; /* the folder to watch with inotify */
	char name[256];   /* for SRC_FILE: the file's name in watch (events for other files are ignored) */
};
/* Parse --source. KCM:, KEYRING:, MEMORY: and API: give TR_EXIT_USAGE with an explanation. */
int source_parse(const char *spec, struct source *s, char *err, size_t errlen);
/* The cache file to publish now: the file, the DIR: primary, or the newest cache holding a valid
 * TGT in a folder. Returns 0, or TR_EXIT_AUTH with err saying why there is none. */
int source_pick(const struct source *s, const char *want, char *file, size_t len, char *err, size_t errlen);

/* publish: atomically replace the target with a validated cache. */
struct target {
	char path[4096];
	mode_t mode;
	gid_t gid; /* (gid_t)-1: the process's group */
};
int target_parse(const char *spec, const char *mode, const char *group, struct target *t, char *err, size_t errlen);
/* Publish the cache bytes data (as read from a cache file). */
int publish_bytes(const struct target *t, const void *data, size_t len, const char *want, const char *origin,
                  struct krb_ticket *tk, char *err, size_t errlen);
/* Publish a copy of the cache ccname (e.g. a MEMORY: cache). */
int publish_ccache(const struct target *t, const char *ccname, const char *want, const char *origin,
                   struct krb_ticket *tk, char *err, size_t errlen);
/* The inode of the published file, 0 when there is none (to notice it was removed or replaced). */
ino_t target_inode(const struct target *t);

/* watch: wait for a stop signal, an inotify event on the source folder, or a timeout. */
enum wake { WAKE_TIMEOUT, WAKE_CHANGE, WAKE_STOP };
void watch_update(const struct source *s); /* (re)add the watch when the folder exists */
enum wake watch_wait(long timeout_ms, long settle_ms);
void watch_close(void);

/* Logging helpers shared by share and renew. */
void ts_log_ticket(const char *event, const struct krb_ticket *tk, const char *origin, const char *target,
                   long warn_before);
void ts_ticket_json(const struct krb_ticket *tk, void *cjson_object);

int ts_cmd_share(const struct cmd *cmd, int argc, char **argv);
int ts_cmd_renew(const struct cmd *cmd, int argc, char **argv);
int ts_cmd_check(const struct cmd *cmd, int argc, char **argv);
int ts_cmd_status(const struct cmd *cmd, int argc, char **argv);

#endif
