/* cmd_gc: `python-launcher gc --keep N`, prune the least recently used snapshots of the cache.
 * A run touches its snapshot's folder, so the folder's mtime is its last use. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "buf.h"
#include "commands.h"
#include "exitcode.h"
#include "log.h"
#include "result.h"

static long keep = -1;

/* Leftovers of unpacks or downloads that died are removed after this long. */
#define STALE_TEMP_S 3600

struct snapshot_entry {
	char name[80];
	struct timespec used;
};

static int newest_first(const void *a, const void *b)
{
	const struct timespec *x = &((const struct snapshot_entry *)a)->used;
	const struct timespec *y = &((const struct snapshot_entry *)b)->used;
	if (x->tv_sec != y->tv_sec)
		return x->tv_sec < y->tv_sec ? 1 : -1;
	return x->tv_nsec < y->tv_nsec ? 1 : (x->tv_nsec > y->tv_nsec ? -1 : 0);
}

static void remove_entry(const char *cache, const char *name, long *removed)
{
	struct buf p = BUF_INIT;
	buf_printf(&p, "%s/%s", cache, name);
	if (snapshot_rmtree(p.data) == 0)
		(*removed)++;
	else
		log_warn("gc", "cannot remove %s: %s", p.data, strerror(errno));
	buf_free(&p);
}

/* The cache's snapshots (and stale temporaries, removed on the way). */
static size_t list_snapshots(const char *cache, DIR *d, struct snapshot_entry **out, long *removed)
{
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		bool temp = strncmp(de->d_name, ".unpack-", 8) == 0 || strncmp(de->d_name, ".download-", 10) == 0;
		if (temp && time(NULL) - st.st_mtime > STALE_TEMP_S)
			remove_entry(cache, de->d_name, removed);
		if (!snapshot_is_digest(de->d_name) || !S_ISDIR(st.st_mode))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			*out = realloc(*out, cap * sizeof **out);
		}
		memcpy((*out)[n].name, de->d_name, 65); /* a digest: 64 digits and the NUL */
		(*out)[n++].used = st.st_mtim;
	}
	return n;
}

static int gc_main(const struct cmd *cmd, int argc, char **argv)
{
	struct strlist args = { 0 };
	int rc = cli_parse(cmd, argc, argv, &args);
	if (rc == TR_EXIT_OK && (args.len || keep < 0))
		rc = result_fail(TR_EXIT_USAGE, "usage", "gc needs --keep N and no arguments; see '%s --help'",
		                 cmd->name);
	strlist_free(&args);
	if (rc != TR_EXIT_OK)
		return rc;
	const char *cache = snapshot_cache_dir();
	DIR *d = opendir(cache);
	if (!d && errno == ENOENT)
		return TR_EXIT_OK;
	if (!d)
		return result_fail(TR_EXIT_FAILED, "gc", "cannot read %s: %s", cache, strerror(errno));
	struct snapshot_entry *all = NULL;
	long removed = 0;
	size_t n = list_snapshots(cache, d, &all, &removed);
	closedir(d);
	if (n)
		qsort(all, n, sizeof *all, newest_first);
	for (size_t i = (size_t)keep; i < n; i++)
		remove_entry(cache, all[i].name, &removed);
	free(all);
	cJSON_AddNumberToObject(result_object(), "kept", (double)(n < (size_t)keep ? n : (size_t)keep));
	cJSON_AddNumberToObject(result_object(), "removed", (double)removed);
	return TR_EXIT_OK;
}

/* clang-format off */
static const struct opt gc_opts[] = {
	{ "keep", 0, OPT_INT, &keep, "N", "how many snapshots to keep: the N most recently used", 0 },
	{ "cache", 0, OPT_STRING, &snap_cache, "DIR", "the snapshot cache (default <workdir>/tinyrun-snapshots)", 0 },
	{ 0 }
};

const struct cmd cmd_gc = {
	.name = "python-launcher gc",
	.usage = "--keep N [--cache DIR]",
	.summary = "remove all but the N most recently used snapshots from the cache",
	.description =
		"Two pipelines pinned to different snapshot digests can share one image and one cache\n"
		"(blue-green); gc keeps the N snapshots used last and removes the rest, and removes\n"
		"temporary folders that unpacks or downloads left more than an hour ago.\n"
		"\n"
		"Example:\n"
		"  python-launcher gc --cache /snapshots --keep 5\n",
	.opts = gc_opts,
	.run = gc_main,
};
/* clang-format on */
