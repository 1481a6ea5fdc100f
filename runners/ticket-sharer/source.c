/* source: what --source names (FILE:, DIR:, a plain file or a folder of caches) and which cache
 * file in it is the one to publish now. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "exitcode.h"
#include "fsutil.h"
#include "log.h"
#include "sharer.h"

/* Cache types that live in a process or the kernel of the host, never in a file. */
static const struct {
	const char *prefix, *what;
} unshareable[] = {
	{ "KCM:", "KCM caches live in a daemon on the host (sssd-kcm or kcm)" },
	{ "KEYRING:", "KEYRING caches live in the host kernel's keyring" },
	{ "MEMORY:", "MEMORY caches live inside one process" },
	{ "API:", "API caches live in the credentials cache server of macOS or Windows" },
	{ "MSLSA:", "MSLSA caches live in the Windows LSA" },
};

static int unshareable_error(const char *spec, const char *what, char *err, size_t errlen)
{
	const char *host = ts_opts.host_path ? ts_opts.host_path : "$HOME/.tinyrun/krb5";
	snprintf(err, errlen,
	         "cannot share %s: %s and cannot be read from a container. Get a FILE cache instead: on the "
	         "host run `kinit -c FILE:%s/krb5cc YOUR_PRINCIPAL` (or `export KRB5CCNAME=DIR:%s` before "
	         "kinit) and share that file or folder",
	         spec, what, host, host);
	return TR_EXIT_USAGE;
}

static void split_folder(struct source *s)
{
	char *slash = strrchr(s->path, '/');
	if (!slash) {
		snprintf(s->watch, sizeof s->watch, ".");
		snprintf(s->name, sizeof s->name, "%.255s", s->path);
	} else {
		snprintf(s->watch, sizeof s->watch, "%.*s", slash == s->path ? 1 : (int)(slash - s->path), s->path);
		snprintf(s->name, sizeof s->name, "%.255s", slash + 1);
	}
}

int source_parse(const char *spec, struct source *s, char *err, size_t errlen)
{
	memset(s, 0, sizeof *s);
	for (size_t i = 0; i < sizeof unshareable / sizeof *unshareable; i++)
		if (strncmp(spec, unshareable[i].prefix, strlen(unshareable[i].prefix)) == 0)
			return unshareable_error(spec, unshareable[i].what, err, errlen);
	const char *colon = strchr(spec, ':'), *slash = strchr(spec, '/');
	s->kind = SRC_FILE;
	if (strncmp(spec, "FILE:", 5) == 0 ||
	    strncmp(spec, "DIR::", 5) == 0) { /* DIR::x is one cache of a collection */
		spec += 5;
	} else if (strncmp(spec, "DIR:", 4) == 0) {
		spec += 4;
		s->kind = SRC_DIR;
	} else if (colon && (!slash || colon < slash)) {
		snprintf(err, errlen, "--source %s: unknown cache type; use FILE:PATH, DIR:PATH or a folder", spec);
		return TR_EXIT_USAGE;
	} else {
		struct stat st;
		if (stat(spec, &st) == 0 && S_ISDIR(st.st_mode))
			s->kind = SRC_FOLDER;
	}
	if (!*spec || strlen(spec) >= sizeof s->path) {
		snprintf(err, errlen, "--source: the path is empty or too long");
		return TR_EXIT_USAGE;
	}
	snprintf(s->path, sizeof s->path, "%s", spec);
	if (s->kind == SRC_FILE)
		split_folder(s);
	else
		snprintf(s->watch, sizeof s->watch, "%s", s->path);
	return TR_EXIT_OK;
}

/* DIR: collections name their primary cache in the file "primary" ("tkt" when it is missing or
 * not a regular file: opening a FIFO there would block the sharer). */
static int pick_dir(const struct source *s, char *file, size_t len)
{
	char path[4200], *data = NULL;
	size_t n = 0;
	struct stat st;
	snprintf(path, sizeof path, "%s/primary", s->path);
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && fs_read_file(path, 4096, &data, &n) == 0) {
		data[strcspn(data, "\r\n")] = '\0';
		if (*data && !strchr(data, '/')) {
			snprintf(file, len, "%s/%s", s->path, data);
			free(data);
			return 0;
		}
	}
	free(data);
	snprintf(file, len, "%s/tkt", s->path);
	return 0;
}

static int is_candidate(const struct dirent *d)
{
	return d->d_name[0] != '.' && strcmp(d->d_name, "primary") != 0 && !strstr(d->d_name, ".tmp.");
}

/* Is a newer than b? The later TGT start wins; then the later end. */
static int newer(const struct krb_ticket *a, const struct krb_ticket *b)
{
	return a->start != b->start ? a->start > b->start : a->end > b->end;
}

static int pick_folder(const struct source *s, const char *want, char *file, size_t len, char *err, size_t errlen)
{
	DIR *dir = opendir(s->path);
	if (!dir) {
		snprintf(err, errlen, "cannot open the folder %s: %s", s->path, strerror(errno));
		return TR_EXIT_AUTH;
	}
	struct buf why = BUF_INIT;
	struct krb_ticket best = { 0 }, tk;
	int found = 0, tried = 0;
	struct dirent *d;
	while ((d = readdir(dir))) {
		char path[4400], e[512];
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", s->path, d->d_name);
		if (!is_candidate(d) || stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		tried++;
		if (cachefile_check(path, want, 0, &tk, e, sizeof e) != TR_EXIT_OK) {
			buf_printf(&why, "%s%s", why.len ? "; " : "", e);
		} else if (!found || newer(&tk, &best)) {
			best = tk;
			snprintf(file, len, "%s", path);
			found = 1;
		}
	}
	closedir(dir);
	if (!found && !tried)
		snprintf(err, errlen, "no ticket cache in the folder %s", s->path);
	else if (!found)
		snprintf(err, errlen, "none of the %d files in %s holds a valid ticket: %s", tried, s->path,
		         buf_str(&why));
	buf_free(&why);
	return found ? TR_EXIT_OK : TR_EXIT_AUTH;
}

int source_pick(const struct source *s, const char *want, char *file, size_t len, char *err, size_t errlen)
{
	switch (s->kind) {
	case SRC_DIR: return pick_dir(s, file, len);
	case SRC_FOLDER: return pick_folder(s, want, file, len, err, errlen);
	case SRC_FILE:
	default: {
		struct stat st;
		if (stat(s->path, &st) == 0 && S_ISDIR(st.st_mode)) /* a folder mounted after we started */
			return pick_folder(s, want, file, len, err, errlen);
		snprintf(file, len, "%s", s->path);
		return TR_EXIT_OK;
	}
	}
}
