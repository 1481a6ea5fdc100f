/* snapshot: a code snapshot, ready to run, in the cache.
 *
 * --code is https:// (http:// only with --allow-http), or file:// naming a .tar/.tar.gz or an
 * already unpacked folder (what `fetch` filled in a shared volume). Remote code needs
 * --code-sha256; the archive is verified before anything is unpacked, and a mismatch caches
 * nothing. Archives unpack into a private temporary folder that is renamed to CACHE/<sha256>/, so
 * a half-unpacked snapshot is never used and two processes unpacking the same digest both
 * succeed (the second one's rename loses and its copy is dropped). A cache hit fetches nothing. */
#ifndef PL_SNAPSHOT_H
#define PL_SNAPSHOT_H

#include <cJSON.h>
#include <stdbool.h>

#include "http.h"

struct snapshot_opts {
	const char *code;
	const char *sha256; /* hex; required for remote code */
	const char *cache;  /* the cache folder */
	const char *token_file;
	struct http_opts http;
	long max_size;    /* bytes: the archive, and the files it unpacks to */
	long max_entries; /* entries in the archive */
};

/* The folder to run in (malloc'd) in *dir. Adds code_sha256, cache_hit and bytes_fetched to
 * info. Returns TR_EXIT_OK, or an exit code after result_fail. */
int snapshot_get(const struct snapshot_opts *o, char **dir, cJSON *info);

/* Remove a folder tree (no symlink followed). Returns 0 or -1. */
int snapshot_rmtree(const char *path);

/* The cache folder's entry name is a snapshot digest: 64 lower-case hex digits. */
bool snapshot_is_digest(const char *name);

#endif
