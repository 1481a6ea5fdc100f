/* script: loading, including and checking the scripts of `run` (see script.h). */
#include "script.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "fsutil.h"
#include "psqlmeta.h"

#define INCLUDE_DEPTH_MAX 64

struct include {
	dev_t dev;
	ino_t ino;
	const char *name;
};

struct loader {
	struct script *s;
	const struct strlist *vars;
	size_t max_bytes;
	struct include stack[INCLUDE_DEPTH_MAX]; /* the files being read, outermost first */
	size_t depth;
	char *restrict_key; /* set between \restrict and \unrestrict */
	char *err;
	size_t errlen;
};

/* The \if blocks open in one file. */
struct open_ifs {
	struct {
		int line;
		bool else_seen;
	} * items;
	size_t len;
};

static int fail(struct loader *ld, const char *file, int line, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int fail(struct loader *ld, const char *file, int line, const char *fmt, ...)
{
	struct buf msg = BUF_INIT;
	if (file && line > 0)
		buf_printf(&msg, "%s:%d: ", file, line);
	else if (file)
		buf_printf(&msg, "%s: ", file);
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	snprintf(ld->err, ld->errlen, "%s", buf_str(&msg));
	buf_free(&msg);
	return -1;
}

static void add_step(struct script *s, const struct sql_stmt *stmt, const char *file, const char *cmd)
{
	if (s->len == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->steps = xrealloc(s->steps, s->cap * sizeof *s->steps);
	}
	s->steps[s->len++] = (struct script_step){ stmt, file, cmd };
}

static int load_text(struct loader *ld, const char *name, const char *text);

/* \ir names a file relative to the including one; \i (and \ir in -c) to the working folder. */
static char *include_path(const char *from, const char *cmd, const char *arg)
{
	const char *slash = strrchr(from, '/');
	if (strcmp(cmd, "ir") != 0 || arg[0] == '/' || !slash || strcmp(from, "-c") == 0)
		return xstrdup(arg);
	struct buf path = BUF_INIT;
	buf_printf(&path, "%.*s/%s", (int)(slash - from), from, arg);
	return buf_detach(&path);
}

/* from and line: where the \i is; from is NULL for a file named on the command line. */
static int load_file(struct loader *ld, const char *path, const char *from, int line)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return fail(ld, from, line, "cannot read %s: %s", path, strerror(errno));
	for (size_t i = 0; i < ld->depth; i++) {
		if (ld->stack[i].dev == st.st_dev && ld->stack[i].ino == st.st_ino) {
			struct buf chain = BUF_INIT;
			for (size_t j = i; j < ld->depth; j++)
				buf_printf(&chain, "%s -> ", ld->stack[j].name);
			fail(ld, from, line, "include cycle: %s%s", buf_str(&chain), path);
			buf_free(&chain);
			return -1;
		}
	}
	if (ld->depth == INCLUDE_DEPTH_MAX)
		return fail(ld, from, line, "includes nested deeper than %d files", INCLUDE_DEPTH_MAX);
	char *text;
	size_t len;
	int rc = fs_read_file(path, ld->max_bytes - ld->s->bytes, &text, &len);
	if (rc == EFBIG)
		return fail(ld, from, line, "cannot read %s: the scripts are larger than %zu MB together", path,
		            ld->max_bytes >> 20);
	if (rc)
		return fail(ld, from, line, "cannot read %s: %s", path, strerror(rc));
	ld->s->bytes += len;
	struct strlist *texts = &ld->s->texts; /* owned as is: COPY data points into it */
	texts->items = xrealloc(texts->items, (texts->len + 1) * sizeof *texts->items);
	texts->items[texts->len++] = text;
	strlist_push(&ld->s->files, path);
	const char *name = ld->s->files.items[ld->s->files.len - 1];
	ld->stack[ld->depth++] = (struct include){ st.st_dev, st.st_ino, name };
	rc = load_text(ld, name, text);
	ld->depth--;
	return rc;
}

static int check_conditional(struct loader *ld, const char *name, const struct sql_stmt *st, const char *cmd,
                             struct open_ifs *ifs)
{
	if (strcmp(cmd, "if") == 0) {
		ifs->items = xrealloc(ifs->items, (ifs->len + 1) * sizeof *ifs->items);
		ifs->items[ifs->len].line = st->line;
		ifs->items[ifs->len++].else_seen = false;
		return 0;
	}
	if (ifs->len == 0)
		return fail(ld, name, st->line, "\\%s without a matching \\if in this file", cmd);
	if (strcmp(cmd, "endif") == 0) {
		ifs->len--;
		return 0;
	}
	if (ifs->items[ifs->len - 1].else_seen)
		return fail(ld, name, st->line, "\\%s after \\else (the \\if is on line %d)", cmd,
		            ifs->items[ifs->len - 1].line);
	ifs->items[ifs->len - 1].else_seen = strcmp(cmd, "else") == 0;
	return 0;
}

static int check_restrict(struct loader *ld, const char *name, int line, const char *cmd, const char *key)
{
	if (strcmp(cmd, "restrict") == 0) {
		if (ld->restrict_key)
			return fail(ld, name, line, "\\restrict: already in restricted mode");
		ld->restrict_key = xstrdup(key);
	} else if (!ld->restrict_key) {
		return fail(ld, name, line, "\\unrestrict: not currently in restricted mode");
	} else if (strcmp(key, ld->restrict_key) != 0) {
		return fail(ld, name, line, "\\unrestrict: wrong key");
	} else {
		free(ld->restrict_key);
		ld->restrict_key = NULL;
	}
	return 0;
}

/* One meta-command: known, allowed here, well-formed; includes are read now. */
static int check_meta(struct loader *ld, const char *name, const struct sql_stmt *st, struct open_ifs *ifs)
{
	const char *cmd = meta_canonical(st->text);
	if (!cmd)
		return fail(ld, name, st->line, "the psql meta-command \\%s is not supported by postgres-runner run",
		            st->text);
	if (ld->restrict_key && strcmp(cmd, "unrestrict") != 0)
		return fail(ld, name, st->line, "\\%s: backslash commands are restricted; only \\unrestrict is allowed",
		            st->text);
	struct strlist args = { 0 };
	char why[512];
	int rc = meta_args(st->meta_args, ld->vars, &args, why, sizeof why);
	if (rc == 0)
		rc = meta_check_args(cmd, &args, why, sizeof why);
	if (rc)
		fail(ld, name, st->line, "\\%s: %s", st->text, why);
	else if (meta_is_conditional(cmd))
		rc = check_conditional(ld, name, st, cmd, ifs);
	else if (strcmp(cmd, "restrict") == 0 || strcmp(cmd, "unrestrict") == 0)
		rc = check_restrict(ld, name, st->line, cmd, args.items[0]);
	if (rc == 0 && (strcmp(cmd, "i") == 0 || strcmp(cmd, "ir") == 0)) {
		char *path = include_path(name, cmd, args.items[0]);
		rc = load_file(ld, path, name, st->line);
		free(path);
	} else if (rc == 0) {
		add_step(ld->s, st, name, cmd);
	}
	strlist_free(&args);
	return rc;
}

static int check_gset(struct loader *ld, const char *name, const struct sql_stmt *st)
{
	struct strlist args = { 0 };
	char why[512];
	int rc = meta_args(st->gset_args, ld->vars, &args, why, sizeof why);
	if (rc == 0)
		rc = meta_check_args("gset", &args, why, sizeof why);
	if (rc)
		fail(ld, name, st->line, "\\gset: %s", why);
	strlist_free(&args);
	return rc;
}

static int load_text(struct loader *ld, const char *name, const char *text)
{
	struct script *s = ld->s;
	struct sql_script part;
	char why[512];
	if (sql_split(text, &part, why, sizeof why))
		return fail(ld, name, 0, "%s", why);
	s->parts = xrealloc(s->parts, (s->nparts + 1) * sizeof *s->parts);
	s->parts[s->nparts++] = part; /* its statements stay where they are while includes grow parts */
	struct open_ifs ifs = { NULL, 0 };
	int rc = 0;
	for (size_t i = 0; i < part.len && rc == 0; i++) {
		const struct sql_stmt *st = &part.stmts[i];
		if (st->meta_args)
			rc = check_meta(ld, name, st, &ifs);
		else if (!st->gset_args || (rc = check_gset(ld, name, st)) == 0)
			add_step(s, st, name, NULL);
	}
	if (rc == 0 && ifs.len > 0)
		rc = fail(ld, name, ifs.items[ifs.len - 1].line, "\\if without \\endif in the same file");
	free(ifs.items);
	return rc;
}

int script_load(struct script *s, const struct strlist *files, const char *command, const struct strlist *vars,
                size_t max_bytes, char *err, size_t errlen)
{
	memset(s, 0, sizeof *s);
	struct loader ld = { .s = s, .vars = vars, .max_bytes = max_bytes, .err = err, .errlen = errlen };
	err[0] = '\0';
	int rc = 0;
	if (command)
		rc = load_text(&ld, "-c", command);
	for (size_t i = 0; !command && i < files->len && rc == 0; i++)
		rc = load_file(&ld, files->items[i], NULL, 0);
	free(ld.restrict_key);
	if (rc)
		script_free(s);
	return rc;
}

void script_free(struct script *s)
{
	for (size_t i = 0; i < s->nparts; i++)
		sql_script_free(&s->parts[i]);
	free(s->parts);
	free(s->steps);
	strlist_free(&s->files);
	strlist_free(&s->texts);
	memset(s, 0, sizeof *s);
}
