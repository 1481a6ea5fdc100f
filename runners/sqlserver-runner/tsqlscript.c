/* tsqlscript: reading sqlcmd scripts into batches (see tsqlscript.h). */
#include "tsqlscript.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "buf.h"
#include "fsutil.h"

#define INCLUDE_DEPTH_MAX 64
#define VAR_NAME_MAX      128

struct tsql_var {
	char *name, *value;
};

struct tsql_vars {
	struct tsql_var *items;
	size_t len;
};

/* Where the reader is inside strings, quoted identifiers and comments; kept across lines. */
enum lex_mode { LEX_CODE, LEX_STRING, LEX_QUOTED, LEX_BRACKETED, LEX_COMMENT };

struct lexer {
	enum lex_mode mode;
	unsigned depth;     /* nesting of block comments */
	unsigned open_line; /* where the string, identifier or comment began */
};

struct include {
	dev_t dev;
	ino_t ino;
	bool is_file; /* false for text given inline: no identity, :r relative to the working folder */
	const char *name;
};

struct reader {
	struct tsql_script *s;
	struct tsql_vars *vars;
	struct include stack[INCLUDE_DEPTH_MAX]; /* the files being read, outermost first */
	size_t depth;
	struct buf batch; /* the batch being collected */
	bool batch_open, batch_has_sql;
	const char *batch_file;
	unsigned batch_line;
	char *err;
	size_t errlen;
};

static int fail(struct reader *r, const char *file, unsigned line, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int fail(struct reader *r, const char *file, unsigned line, const char *fmt, ...)
{
	struct buf msg = BUF_INIT;
	if (line)
		buf_printf(&msg, "%s:%u: ", file, line);
	else
		buf_printf(&msg, "%s: ", file);
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	snprintf(r->err, r->errlen, "%s", buf_str(&msg));
	buf_free(&msg);
	return -1;
}

/* ---- variables ---- */

static bool is_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-';
}

static bool valid_name(const char *name, size_t len)
{
	if (len == 0 || len > VAR_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_name_char(name[i]))
			return false;
	return true;
}

struct tsql_vars *tsql_vars_new(void)
{
	struct tsql_vars *v = xmalloc(sizeof *v);
	*v = (struct tsql_vars){ NULL, 0 };
	return v;
}

static struct tsql_var *var_find(const struct tsql_vars *v, const char *name, size_t len)
{
	for (size_t i = 0; i < v->len; i++)
		if (strlen(v->items[i].name) == len && strncasecmp(v->items[i].name, name, len) == 0)
			return &v->items[i];
	return NULL;
}

int tsql_vars_set(struct tsql_vars *v, const char *name, const char *value, char *err, size_t errlen)
{
	if (!valid_name(name, strlen(name))) {
		snprintf(err, errlen, "bad variable name \"%s\": use 1 to %d letters, digits, '_' or '-'", name,
		         VAR_NAME_MAX);
		return -1;
	}
	struct tsql_var *var = var_find(v, name, strlen(name));
	if (var) {
		free(var->value);
		var->value = xstrdup(value);
		return 0;
	}
	v->items = xrealloc(v->items, (v->len + 1) * sizeof *v->items);
	v->items[v->len++] = (struct tsql_var){ xstrdup(name), xstrdup(value) };
	return 0;
}

static void vars_unset(struct tsql_vars *v, const char *name)
{
	struct tsql_var *var = var_find(v, name, strlen(name));
	if (!var)
		return;
	free(var->name);
	free(var->value);
	*var = v->items[--v->len];
}

void tsql_vars_free(struct tsql_vars *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->len; i++) {
		free(v->items[i].name);
		free(v->items[i].value);
	}
	free(v->items);
	free(v);
}

/* Append text with every $(name) replaced. "$(" not followed by a name and ')' stays as it is. */
static int expand(struct reader *r, const char *file, unsigned line, const char *p, size_t n, struct buf *out)
{
	const char *end = p + n;
	while (p < end) {
		const char *ref = memchr(p, '$', (size_t)(end - p));
		if (!ref) {
			buf_append(out, p, (size_t)(end - p));
			break;
		}
		buf_append(out, p, (size_t)(ref - p));
		const char *name = end - ref >= 2 && ref[1] == '(' ? ref + 2 : end, *q = name;
		while (q < end && is_name_char(*q))
			q++;
		if (q == name || q == end || *q != ')') {
			buf_putc(out, '$');
			p = ref + 1;
			continue;
		}
		const struct tsql_var *var = var_find(r->vars, name, (size_t)(q - name));
		if (!var)
			return fail(r, file, line, "undefined variable $(%.*s): give it with -v %.*s=VALUE or :setvar",
			            (int)(q - name), name, (int)(q - name), name);
		buf_puts(out, var->value);
		p = q + 1;
	}
	return 0;
}

/* ---- lexing ---- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static const char *skip_blanks(const char *p, const char *end)
{
	while (p < end && is_blank(*p))
		p++;
	return p;
}

/* Follow one line through strings, identifiers and comments. Returns whether it holds anything
 * but blanks and comments. */
static bool lex_line(struct lexer *lx, const char *p, size_t n, unsigned line)
{
	static const char closer[] = { [LEX_STRING] = '\'', [LEX_QUOTED] = '"', [LEX_BRACKETED] = ']' };
	const char *end = p + n;
	bool sql = false;
	for (; p < end; p++) {
		char c = *p, next = p + 1 < end ? p[1] : '\0';
		switch (lx->mode) {
		case LEX_CODE:
			if (c == '-' && next == '-')
				return sql;
			if (c == '/' && next == '*') {
				*lx = (struct lexer){ LEX_COMMENT, 1, line };
				p++;
				continue;
			}
			if (!is_blank(c) && c != '\n')
				sql = true;
			if (c == '\'' || c == '"' || c == '[')
				*lx = (struct lexer){ c == '\''  ? LEX_STRING
					              : c == '"' ? LEX_QUOTED
					                         : LEX_BRACKETED,
					              0, line };
			break;
		case LEX_STRING:
		case LEX_QUOTED:
		case LEX_BRACKETED:
			if (c == closer[lx->mode]) {
				if (next == c)
					p++; /* '' "" ]] stand for one */
				else
					lx->mode = LEX_CODE;
			}
			break;
		case LEX_COMMENT:
			if (c == '/' && next == '*') {
				lx->depth++;
				p++;
			} else if (c == '*' && next == '/') {
				p++;
				if (--lx->depth == 0)
					lx->mode = LEX_CODE;
			}
			break;
		}
	}
	return sql;
}

static const char *lex_what(enum lex_mode mode)
{
	switch (mode) {
	case LEX_STRING: return "a string ('...')";
	case LEX_QUOTED: return "a quoted identifier (\"...\")";
	case LEX_BRACKETED: return "a bracketed identifier ([...])";
	case LEX_COMMENT: return "a block comment";
	case LEX_CODE: break;
	}
	return "SQL";
}

/* ---- batches ---- */

static void push_batch(struct tsql_script *s, struct tsql_batch b)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->batch = xrealloc(s->batch, s->cap * sizeof *s->batch);
	}
	s->batch[s->n++] = b;
}

/* End the batch being collected (GO, or the end of a file named on the command line). */
static void end_batch(struct reader *r, unsigned long count)
{
	struct buf *b = &r->batch;
	if (r->batch_has_sql) {
		while (b->len > 0 && (is_blank(b->data[b->len - 1]) || b->data[b->len - 1] == '\n'))
			b->data[--b->len] = '\0';
		size_t len = b->len;
		push_batch(r->s, (struct tsql_batch){ buf_detach(b), len, count, r->batch_file, r->batch_line,
		                                      !r->s->ignore_errors });
	}
	buf_reset(b);
	r->batch_open = r->batch_has_sql = false;
}

/* A SQL line: variables substituted, followed through the lexer, added to the batch. */
static int add_sql_line(struct reader *r, struct lexer *lx, const char *file, unsigned line, const char *p, size_t n,
                        bool *file_has_sql)
{
	struct buf text = BUF_INIT;
	if (expand(r, file, line, p, n, &text)) {
		buf_free(&text);
		return -1;
	}
	bool was_code = lx->mode == LEX_CODE;
	bool sql = lex_line(lx, buf_str(&text), text.len, line);
	if (!r->batch_open && !sql && was_code && lx->mode == LEX_CODE &&
	    skip_blanks(buf_str(&text), buf_str(&text) + text.len) == buf_str(&text) + text.len) {
		buf_free(&text); /* blank lines before a batch */
		return 0;
	}
	if (!r->batch_open) {
		r->batch_open = true;
		r->batch_file = file;
		r->batch_line = line;
	}
	buf_append(&r->batch, buf_str(&text), text.len);
	buf_putc(&r->batch, '\n');
	r->batch_has_sql |= sql;
	*file_has_sql |= sql;
	buf_free(&text);
	return 0;
}

/* ---- commands ---- */

/* The next argument: "quoted" (with "" for ") or up to a blank. Returns the end of it in the
 * line, or NULL when a quote is not closed. */
static const char *next_arg(const char *p, const char *end, struct buf *arg)
{
	buf_reset(arg);
	buf_puts(arg, "");
	if (p < end && *p == '"') {
		for (p++; p < end; p++) {
			if (*p == '"' && (p + 1 >= end || p[1] != '"'))
				return p + 1;
			if (*p == '"')
				p++;
			buf_putc(arg, *p);
		}
		return NULL;
	}
	const char *start = p;
	while (p < end && !is_blank(*p))
		p++;
	buf_append(arg, start, (size_t)(p - start));
	return p;
}

/* Nothing but blanks or a -- comment left on the line. */
static bool rest_is_empty(const char *p, const char *end)
{
	p = skip_blanks(p, end);
	return p == end || (end - p >= 2 && p[0] == '-' && p[1] == '-');
}

static bool word_is(const char *p, const char *end, const char *word)
{
	size_t n = strlen(word);
	return (size_t)(end - p) >= n && strncasecmp(p, word, n) == 0 && (p + n == end || is_blank(p[n]));
}

static int read_file(struct reader *r, const char *path, const char *from, unsigned line);

static int cmd_setvar(struct reader *r, const char *file, unsigned line, const char *p, const char *end)
{
	struct buf name = BUF_INIT, raw = BUF_INIT, value = BUF_INIT;
	int rc = -1;
	const char *q = skip_blanks(p, end);
	const char *name_end = q;
	while (name_end < end && !is_blank(*name_end))
		name_end++;
	buf_append(&name, q, (size_t)(name_end - q));
	q = skip_blanks(name_end, end);
	const char *after = q == end ? q : next_arg(q, end, &raw);
	if (!valid_name(buf_str(&name), name.len))
		fail(r, file, line,
		     ":setvar needs a variable name (letters, digits, '_' or '-'): :setvar NAME \"value\"");
	else if (!after)
		fail(r, file, line, ":setvar %s: the value's quote is not closed", buf_str(&name));
	else if (!rest_is_empty(after, end))
		fail(r, file, line, ":setvar %s: put a value with blanks in double quotes", buf_str(&name));
	else if (q == end) {
		vars_unset(r->vars, buf_str(&name));
		rc = 0;
	} else if (expand(r, file, line, buf_str(&raw), raw.len, &value) == 0) {
		rc = tsql_vars_set(r->vars, buf_str(&name), buf_str(&value), r->err, r->errlen);
	}
	buf_free(&name);
	buf_free(&raw);
	buf_free(&value);
	return rc;
}

/* :r names a file relative to the including file (or to the working folder from inline text). */
static char *include_path(const struct include *from, const char *arg)
{
	const char *slash = from->is_file ? strrchr(from->name, '/') : NULL;
	if (arg[0] == '/' || !slash)
		return xstrdup(arg);
	struct buf path = BUF_INIT;
	buf_printf(&path, "%.*s/%s", (int)(slash - from->name), from->name, arg);
	return buf_detach(&path);
}

static int cmd_include(struct reader *r, const char *file, unsigned line, const char *p, const char *end)
{
	struct buf raw = BUF_INIT, arg = BUF_INIT;
	const char *q = skip_blanks(p, end);
	const char *after = q == end ? NULL : next_arg(q, end, &raw);
	int rc = -1;
	if (!after || raw.len == 0)
		fail(r, file, line, ":r needs a file name: :r FILE or :r \"FILE\"");
	else if (!rest_is_empty(after, end))
		fail(r, file, line, ":r: put a file name with blanks in double quotes");
	else if (expand(r, file, line, buf_str(&raw), raw.len, &arg) == 0) {
		char *path = include_path(&r->stack[r->depth - 1], buf_str(&arg));
		rc = read_file(r, path, file, line);
		free(path);
	}
	buf_free(&raw);
	buf_free(&arg);
	return rc;
}

static int cmd_on_error(struct reader *r, const char *file, unsigned line, const char *p, const char *end)
{
	p = skip_blanks(p, end);
	if (word_is(p, end, "error")) {
		p = skip_blanks(p + 5, end);
		bool exit_ = word_is(p, end, "exit"), ignore = word_is(p, end, "ignore");
		if ((exit_ || ignore) && rest_is_empty(p + (exit_ ? 4 : 6), end)) {
			r->s->ignore_errors = ignore;
			return 0;
		}
	}
	return fail(r, file, line, ":on needs \"error exit\" or \"error ignore\"");
}

/* A line starting with ':' (after blanks). */
static int run_command(struct reader *r, const char *file, unsigned line, const char *p, const char *end)
{
	const char *name = p + 1, *q = name;
	while (q < end && !is_blank(*q))
		q++;
	if (word_is(name, end, "setvar"))
		return cmd_setvar(r, file, line, q, end);
	if (word_is(name, end, "r"))
		return cmd_include(r, file, line, q, end);
	if (word_is(name, end, "on"))
		return cmd_on_error(r, file, line, q, end);
	return fail(r, file, line, "unsupported sqlcmd command :%.*s (only :setvar, :r and :on error are)",
	            (int)(q - name), name);
}

/* GO [count]: the count is read after variables are substituted. */
static int go_count(struct reader *r, const char *file, unsigned line, const char *p, const char *end,
                    unsigned long *count)
{
	struct buf arg = BUF_INIT;
	if (expand(r, file, line, p, (size_t)(end - p), &arg)) {
		buf_free(&arg);
		return -1;
	}
	const char *a = skip_blanks(buf_str(&arg), buf_str(&arg) + arg.len), *aend = buf_str(&arg) + arg.len;
	const char *digits = a;
	unsigned long n = 0;
	while (a < aend && isdigit((unsigned char)*a) && n <= TSQL_GO_COUNT_MAX)
		n = n * 10 + (unsigned long)(*a++ - '0');
	int rc = 0;
	if (a == digits && rest_is_empty(a, aend)) {
		*count = 1;
	} else if (a > digits && rest_is_empty(a, aend) && n >= 1 && n <= TSQL_GO_COUNT_MAX) {
		*count = n;
	} else {
		while (aend > digits && is_blank(aend[-1]))
			aend--;
		rc = fail(r, file, line, "bad GO count \"%.*s\": give a whole number from 1 to %lu, or none",
		          (int)(aend - digits), digits, TSQL_GO_COUNT_MAX);
	}
	buf_free(&arg);
	return rc;
}

/* ---- files ---- */

/* GO, a command or a SQL line; lx is the file's lexer. */
static int read_line(struct reader *r, struct lexer *lx, const char *file, unsigned line, const char *p,
                     const char *end, bool *has_content)
{
	const char *first = skip_blanks(p, end);
	if (lx->mode != LEX_CODE)
		return add_sql_line(r, lx, file, line, p, (size_t)(end - p), has_content);
	if (first < end && *first == ':') {
		*has_content = true;
		return run_command(r, file, line, first, end);
	}
	if (end - first >= 2 && first[0] == '!' && first[1] == '!')
		return fail(r, file, line, "shell commands (!!) are not supported");
	if (end - first >= 2 && strncasecmp(first, "go", 2) == 0 && (first + 2 == end || is_blank(first[2]))) {
		unsigned long count = 1;
		if (go_count(r, file, line, first + 2, end, &count))
			return -1;
		end_batch(r, count);
		return 0;
	}
	return add_sql_line(r, lx, file, line, p, (size_t)(end - p), has_content);
}

static const char *remember_name(struct tsql_script *s, const char *name)
{
	s->names = xrealloc(s->names, (s->nnames + 1) * sizeof *s->names);
	s->names[s->nnames] = xstrdup(name);
	return s->names[s->nnames++];
}

/* Read one file's text; the batch being collected continues through it. */
static int read_text(struct reader *r, const char *file, const char *text, size_t len)
{
	if (len >= 2 && ((text[0] == '\xff' && text[1] == '\xfe') || (text[0] == '\xfe' && text[1] == '\xff')))
		return fail(r, file, 0, "the script is UTF-16: save it as UTF-8");
	const char *nul = memchr(text, '\0', len);
	if (nul)
		return fail(r, file, 0, "the script holds a NUL byte (at offset %zu): is it a text file?",
		            (size_t)(nul - text));
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		text += 3;
		len -= 3;
	}
	struct lexer lx = { LEX_CODE, 0, 0 };
	bool has_content = false;
	const char *p = text, *end = text + len;
	for (unsigned line = 1; p < end; line++) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		if (read_line(r, &lx, file, line, p, eol, &has_content))
			return -1;
		p = eol + 1;
	}
	if (lx.mode != LEX_CODE)
		return fail(r, file, lx.open_line, "%s opened here is not closed by the end of the file",
		            lex_what(lx.mode));
	if (!has_content)
		return fail(r, file, 0, "no SQL in the script (it is empty or holds only comments)");
	return 0;
}

/* from and line: where the :r is; from is NULL for a file named on the command line. */
static int read_file(struct reader *r, const char *path, const char *from, unsigned line)
{
	const char *where = from ? from : path;
	struct stat st;
	if (stat(path, &st) != 0)
		return fail(r, where, line, "cannot read %s: %s", path, strerror(errno));
	for (size_t i = 0; i < r->depth; i++) {
		if (r->stack[i].is_file && r->stack[i].dev == st.st_dev && r->stack[i].ino == st.st_ino) {
			struct buf chain = BUF_INIT;
			for (size_t j = i; j < r->depth; j++)
				buf_printf(&chain, "%s -> ", r->stack[j].name);
			fail(r, where, line, "include cycle: %s%s", buf_str(&chain), path);
			buf_free(&chain);
			return -1;
		}
	}
	if (r->depth == INCLUDE_DEPTH_MAX)
		return fail(r, where, line, "includes nested deeper than %d files", INCLUDE_DEPTH_MAX);
	char *text;
	size_t len;
	int rc = fs_read_file(path, TSQL_SCRIPT_MAX_BYTES - r->s->bytes, &text, &len);
	if (rc == EFBIG)
		return fail(r, where, line, "cannot read %s: the scripts are larger than %u MB together", path,
		            TSQL_SCRIPT_MAX_BYTES >> 20);
	if (rc)
		return fail(r, where, line, "cannot read %s: %s", path, strerror(rc));
	r->s->bytes += len;
	const char *name = remember_name(r->s, path);
	r->stack[r->depth++] = (struct include){ st.st_dev, st.st_ino, true, name };
	rc = read_text(r, name, text, len);
	r->depth--;
	free(text);
	return rc;
}

/* ---- the script ---- */

void tsql_script_init(struct tsql_script *s)
{
	*s = (struct tsql_script){ 0 };
}

/* Run one top-level read; on error drop what it added, so s is as it was. */
static int add(struct tsql_script *s, struct tsql_vars *vars, const char *path, const char *text, size_t len,
               const char *name, char *err, size_t errlen)
{
	if (errlen > 0)
		err[0] = '\0';
	struct reader r = { .s = s, .vars = vars, .err = err, .errlen = errlen };
	size_t n = s->n;
	bool ignore = s->ignore_errors;
	int rc;
	if (path) {
		rc = read_file(&r, path, NULL, 0);
	} else if (len > TSQL_SCRIPT_MAX_BYTES - s->bytes) {
		rc = fail(&r, name, 0, "the scripts are larger than %u MB together", TSQL_SCRIPT_MAX_BYTES >> 20);
	} else {
		s->bytes += len;
		const char *stored = remember_name(s, name);
		r.stack[r.depth++] = (struct include){ 0, 0, false, stored };
		rc = read_text(&r, stored, text, len);
	}
	if (rc == 0)
		end_batch(&r, 1);
	buf_free(&r.batch);
	if (rc) {
		while (s->n > n)
			free((char *)s->batch[--s->n].sql);
		s->ignore_errors = ignore;
	}
	return rc;
}

int tsql_script_add_file(struct tsql_script *s, const char *path, struct tsql_vars *vars, char *err, size_t errlen)
{
	return add(s, vars, path, NULL, 0, path, err, errlen);
}

int tsql_script_add_text(struct tsql_script *s, const char *text, size_t len, const char *name, struct tsql_vars *vars,
                         char *err, size_t errlen)
{
	return add(s, vars, NULL, text, len, name, err, errlen);
}

void tsql_script_free(struct tsql_script *s)
{
	for (size_t i = 0; i < s->n; i++)
		free((char *)s->batch[i].sql);
	free(s->batch);
	for (size_t i = 0; i < s->nnames; i++)
		free(s->names[i]);
	free(s->names);
	tsql_script_init(s);
}
