/* sqlsplit: psql-compatible splitting (statements, meta-commands, COPY data) and variable expansion
 * (see sqlsplit.h). */
#include "sqlsplit.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"

/* COPY ... FROM stdin is recognised word by word: COPY first, then FROM followed by STDIN outside
 * parentheses (so a FROM inside COPY (SELECT ... FROM ...) TO STDOUT does not count). */
enum copy_state { COPY_NO, COPY_STMT, COPY_FROM, COPY_STDIN };

struct scan {
	const char *p;
	int line;
	bool expanding; /* sql_expand(): one statement, substitute variables, ';' is plain text */
	enum copy_state copy;
	size_t cap;      /* allocated out->stmts */
	struct buf cur;  /* the statement being built */
	int cur_line;    /* where it started; 0 while it holds only blanks and comments */
	int paren;       /* ( depth: a ';' inside parentheses does not end a statement */
	int begin_depth; /* BEGIN ATOMIC ... END depth inside CREATE FUNCTION/PROCEDURE */
	int words;       /* identifiers seen in this statement, for the CREATE FUNCTION check */
	bool routine;    /* the statement is CREATE [OR REPLACE] FUNCTION|PROCEDURE */
	char first_words[4][16];
	const struct strlist *vars;
	struct strlist *unknown;
	struct sql_script *out;
	char *err;
	size_t errlen;
};

static bool is_ident_start(char c)
{
	return isalpha((unsigned char)c) || c == '_' || (unsigned char)c >= 0x80;
}

static bool is_ident_char(char c)
{
	return is_ident_start(c) || isdigit((unsigned char)c) || c == '$';
}

bool sql_is_var_start(char c)
{
	return is_ident_start(c);
}

bool sql_is_var_char(char c)
{
	return is_ident_char(c) && c != '$';
}

static int scan_fail(struct scan *s, int line, const char *what)
{
	snprintf(s->err, s->errlen, "line %d: %s", line, what);
	return -1;
}

/* Copy n bytes of the input into the statement, counting lines. */
static void take(struct scan *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s->p[i] == '\n')
			s->line++;
	buf_append(&s->cur, s->p, n);
	s->p += n;
}

static void mark_content(struct scan *s)
{
	if (!s->cur_line)
		s->cur_line = s->line;
}

static struct sql_stmt *push_item(struct scan *s, char *text, int line)
{
	if (s->out->len == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->out->stmts = xrealloc(s->out->stmts, s->cap * sizeof *s->out->stmts);
	}
	struct sql_stmt *st = &s->out->stmts[s->out->len++];
	memset(st, 0, sizeof *st);
	st->text = text;
	st->line = line;
	return st;
}

/* End the statement being built. Returns it, or NULL when it held only blanks and comments. */
static struct sql_stmt *emit(struct scan *s)
{
	struct sql_stmt *st = NULL;
	if (s->cur_line) {
		const char *text = buf_str(&s->cur);
		size_t start = strspn(text, " \t\r\n"), len = strlen(text);
		while (len > start && strchr(" \t\r\n", text[len - 1]))
			len--;
		st = push_item(s, xstrndup(text + start, len - start), s->cur_line);
	}
	buf_reset(&s->cur);
	s->cur_line = s->paren = s->begin_depth = s->words = 0;
	s->routine = false;
	s->copy = COPY_NO;
	return st;
}

/* '...' (standard strings: '' escapes a quote) or E'...' (backslash escapes too). */
static int scan_quoted(struct scan *s, char quote, bool backslash_escapes)
{
	int start = s->line;
	size_t i = 1;
	for (;;) {
		char c = s->p[i];
		if (!c)
			return scan_fail(s, start,
			                 quote == '"' ? "unterminated quoted identifier"
			                              : "unterminated quoted string");
		if ((backslash_escapes && c == '\\' && s->p[i + 1]) || (c == quote && s->p[i + 1] == quote)) {
			i += 2;
		} else if (c == quote) {
			take(s, i + 1);
			return 0;
		} else {
			i++;
		}
	}
}

/* $tag$ ... $tag$. Returns 1 when p is not a dollar quote (a $1 parameter, say). */
static int scan_dollar(struct scan *s)
{
	size_t n = 1;
	while (s->p[n] && s->p[n] != '$' && (is_ident_start(s->p[n]) || (n > 1 && isdigit((unsigned char)s->p[n]))))
		n++;
	if (s->p[n] != '$')
		return 1;
	char tag[128];
	if (n + 1 >= sizeof tag)
		return 1;
	memcpy(tag, s->p, n + 1);
	tag[n + 1] = '\0';
	const char *end = strstr(s->p + n + 1, tag);
	if (!end)
		return scan_fail(s, s->line, "unterminated dollar-quoted string");
	take(s, (size_t)(end - s->p) + n + 1);
	return 0;
}

static int scan_block_comment(struct scan *s)
{
	int start = s->line, depth = 0;
	size_t i = 0;
	do {
		if (!s->p[i])
			return scan_fail(s, start, "unterminated /* comment");
		if (s->p[i] == '/' && s->p[i + 1] == '*') {
			depth++;
			i += 2;
		} else if (s->p[i] == '*' && s->p[i + 1] == '/') {
			depth--;
			i += 2;
		} else {
			i++;
		}
	} while (depth > 0);
	take(s, i);
	return 0;
}

const char *sql_var_get(const struct strlist *vars, const char *name, size_t name_len)
{
	for (size_t i = vars ? vars->len : 0; i-- > 0;) { /* the last -v of a name wins */
		const char *item = vars->items[i], *eq = strchr(item, '=');
		if (eq && (size_t)(eq - item) == name_len && strncmp(item, name, name_len) == 0)
			return eq + 1;
	}
	return NULL;
}

void sql_append_literal(struct buf *b, const char *v)
{
	bool backslash = strchr(v, '\\') != NULL;
	buf_puts(b, backslash ? " E'" : "'");
	for (; *v; v++) {
		if (*v == '\'' || *v == '\\')
			buf_putc(b, *v);
		buf_putc(b, *v);
	}
	buf_putc(b, '\'');
}

void sql_append_identifier(struct buf *b, const char *v)
{
	buf_putc(b, '"');
	for (; *v; v++) {
		if (*v == '"')
			buf_putc(b, '"');
		buf_putc(b, *v);
	}
	buf_putc(b, '"');
}

static void note_unknown(struct scan *s, const char *name, size_t len)
{
	if (!s->unknown)
		return;
	char *n = xstrndup(name, len);
	bool known = false;
	for (size_t i = 0; i < s->unknown->len; i++)
		known = known || strcmp(s->unknown->items[i], n) == 0;
	if (!known)
		strlist_push(s->unknown, n);
	free(n);
}

/* :{?name}, psql's "is name set": TRUE or FALSE. Returns 1 when p is not one. */
static int scan_var_test(struct scan *s)
{
	const char *name = s->p + 3;
	size_t len = 0;
	while (sql_is_var_char(name[len]))
		len++;
	if (len == 0 || !sql_is_var_start(name[0]) || name[len] != '}')
		return 1;
	if (s->expanding)
		buf_puts(&s->cur, sql_var_get(s->vars, name, len) ? "TRUE" : "FALSE");
	else
		buf_append(&s->cur, s->p, len + 4);
	s->p += len + 4;
	return 0;
}

/* At a ':' outside quotes: ::cast, :name, :'name', :"name", :{?name}, or a plain colon. */
static void scan_colon(struct scan *s)
{
	if (s->p[1] == ':') {
		take(s, 2);
		return;
	}
	if (s->p[1] == '{' && s->p[2] == '?' && scan_var_test(s) == 0)
		return;
	char quote = (s->p[1] == '\'' || s->p[1] == '"') ? s->p[1] : 0;
	const char *name = s->p + 1 + (quote ? 1 : 0);
	size_t len = 0;
	while (sql_is_var_char(name[len]))
		len++;
	if (len == 0 || !sql_is_var_start(name[0]) || (quote && name[len] != quote)) {
		take(s, 1);
		return;
	}
	size_t total = 1 + len + (quote ? 2 : 0);
	const char *value = s->expanding ? sql_var_get(s->vars, name, len) : NULL;
	if (!value) {
		if (s->expanding)
			note_unknown(s, name, len);
		take(s, total);
		return;
	}
	if (quote == '\'')
		sql_append_literal(&s->cur, value);
	else if (quote == '"')
		sql_append_identifier(&s->cur, value);
	else
		buf_puts(&s->cur, value);
	s->p += total;
}

static bool word_is(const char *word, const char *a, const char *b)
{
	return strcasecmp(word, a) == 0 || (b && strcasecmp(word, b) == 0);
}

static void track_copy(struct scan *s, const char *word)
{
	if (s->words == 1)
		s->copy = word_is(word, "copy", NULL) ? COPY_STMT : COPY_NO;
	else if (s->copy == COPY_FROM)
		s->copy = word_is(word, "stdin", NULL) ? COPY_STDIN : COPY_STMT;
	else if (s->copy == COPY_STMT && s->paren == 0 && word_is(word, "from", NULL))
		s->copy = COPY_FROM;
}

/* CREATE [OR REPLACE] FUNCTION|PROCEDURE ... BEGIN ATOMIC ... END: the body's ';' stay inside. */
static void scan_word(struct scan *s)
{
	size_t n = 0;
	while (is_ident_char(s->p[n]))
		n++;
	char word[16] = "";
	if (n < sizeof word) {
		memcpy(word, s->p, n);
		word[n] = '\0';
	}
	if (s->words < 4)
		snprintf(s->first_words[s->words], sizeof s->first_words[0], "%s", word);
	s->words++;
	char(*w)[16] = s->first_words;
	if ((s->words == 2 || s->words == 4) && word_is(w[0], "create", NULL) && word_is(word, "function", "procedure"))
		s->routine = s->words == 2 || (word_is(w[1], "or", NULL) && word_is(w[2], "replace", NULL));
	if ((s->routine && word_is(word, "begin", NULL)) || (s->begin_depth > 0 && word_is(word, "case", NULL)))
		s->begin_depth++;
	else if (s->begin_depth > 0 && word_is(word, "end", NULL))
		s->begin_depth--;
	track_copy(s, word);
	take(s, n);
}

/* After COPY ... FROM stdin;: the rest of its line must be blank, and the following lines up to a
 * line "\." (psql's end-of-data marker) are its data. */
static int scan_copy_data(struct scan *s, struct sql_stmt *st)
{
	size_t rest = strcspn(s->p, "\n");
	for (size_t i = 0; i < rest; i++)
		if (!isspace((unsigned char)s->p[i]))
			return scan_fail(
			        s, s->line,
			        "text after COPY ... FROM stdin; on its line: its data starts on the next line");
	if (!s->p[rest])
		return scan_fail(s, st->line,
		                 "COPY ... FROM stdin has no data: put it on the lines after the statement, "
		                 "ended by a line \\.");
	s->p += rest + 1;
	s->line++;
	const char *data = s->p;
	int start = s->line;
	for (;;) {
		const char *eol = strchr(s->p, '\n');
		size_t len = eol ? (size_t)(eol - s->p) : strlen(s->p);
		if (s->p[0] == '\\' && s->p[1] == '.' && (len == 2 || (len == 3 && s->p[2] == '\r'))) {
			st->copy_in = true;
			st->copy_data = data;
			st->copy_len = (size_t)(s->p - data);
			s->p += len;
			return 0;
		}
		if (!eol)
			return scan_fail(s, start, "the COPY data starting here has no end: a line \\. must follow it");
		s->p = eol + 1;
		s->line++;
	}
}

/* At a ';' that ends a statement. */
static int end_statement(struct scan *s)
{
	bool copy_in = s->copy == COPY_STDIN;
	s->p++;
	struct sql_stmt *st = emit(s); /* NULL when the statement is empty: ";;" */
	return st && copy_in ? scan_copy_data(s, st) : 0;
}

/* A backslash outside quotes: a meta-command, up to the end of its line. Only \gset may end a
 * statement; psql would run any other one in the middle of it, which we do not support. */
static int scan_meta(struct scan *s)
{
	const char *name = s->p + 1;
	size_t name_len = strcspn(name, " \t\r\n\\");
	const char *args = name + name_len;
	args += strspn(args, " \t");
	size_t args_len = strcspn(args, "\n");
	while (args_len > 0 && strchr(" \t\r", args[args_len - 1]))
		args_len--;
	char *cmd = xstrndup(name, name_len);
	bool gset = strcmp(cmd, "gset") == 0;
	if (s->cur_line && !gset) {
		char what[160];
		snprintf(what, sizeof what,
		         "\\%.60s inside a statement (started on line %d): end the statement with ';' first", cmd,
		         s->cur_line);
		free(cmd);
		return scan_fail(s, s->line, what);
	}
	if (!s->cur_line && gset) {
		free(cmd);
		return scan_fail(s, s->line, "\\gset without a query: write it after one, as in SELECT 1 AS x \\gset");
	}
	struct sql_stmt *st;
	if (gset) {
		free(cmd);
		st = emit(s);
		st->gset_args = xstrndup(args, args_len);
	} else {
		buf_reset(&s->cur); /* blanks and comments before it */
		st = push_item(s, cmd, s->line);
		st->meta_args = xstrndup(args, args_len);
	}
	s->p = args + strcspn(args, "\n");
	return 0;
}

/* One token at s->p outside any quote or comment. */
static int scan_token(struct scan *s)
{
	const char *p = s->p;
	char prev = s->cur.len ? s->cur.data[s->cur.len - 1] : ' ';
	if (*p == '-' && p[1] == '-') {
		take(s, strcspn(p, "\n"));
		return 0;
	}
	if (*p == '/' && p[1] == '*')
		return scan_block_comment(s);
	if (isspace((unsigned char)*p)) {
		take(s, 1);
		return 0;
	}
	if (*p == ';' && s->paren == 0 && s->begin_depth == 0 && !s->expanding)
		return end_statement(s);
	if (*p == '\\' && !s->expanding)
		return scan_meta(s);
	mark_content(s);
	if ((*p == 'E' || *p == 'e') && p[1] == '\'' && !is_ident_char(prev)) {
		take(s, 1);
		return scan_quoted(s, '\'', true);
	}
	if (*p == '\'' || *p == '"')
		return scan_quoted(s, *p, false);
	if (*p == '$' && !is_ident_char(prev)) {
		int rc = scan_dollar(s);
		if (rc <= 0)
			return rc;
	}
	if (*p == ':') {
		scan_colon(s);
		return 0;
	}
	if (is_ident_start(*p) && !is_ident_char(prev)) {
		scan_word(s);
		return 0;
	}
	if (*p == '(')
		s->paren++;
	else if (*p == ')' && s->paren > 0)
		s->paren--;
	take(s, 1);
	return 0;
}

int sql_split(const char *text, struct sql_script *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	struct scan s = { .p = text, .line = 1, .out = out, .err = err, .errlen = errlen };
	err[0] = '\0';
	while (*s.p) {
		if (scan_token(&s) < 0) {
			buf_free(&s.cur);
			sql_script_free(out);
			return -1;
		}
	}
	if (s.copy == COPY_STDIN && s.cur_line) {
		int line = s.cur_line;
		buf_free(&s.cur);
		sql_script_free(out);
		return scan_fail(&s, line,
		                 "COPY ... FROM stdin has no data: end it with ';' and put the data on the lines "
		                 "after it, ended by a line \\.");
	}
	emit(&s);
	buf_free(&s.cur);
	return 0;
}

int sql_expand(const char *stmt, const struct strlist *vars, struct buf *out, struct strlist *unknown, char *err,
               size_t errlen)
{
	struct scan s = {
		.p = stmt, .line = 1, .expanding = true, .vars = vars, .unknown = unknown, .err = err, .errlen = errlen
	};
	err[0] = '\0';
	int rc = 0;
	while (*s.p && rc == 0)
		rc = scan_token(&s);
	if (rc == 0)
		buf_append(out, buf_str(&s.cur), s.cur.len);
	buf_free(&s.cur);
	return rc;
}

void sql_script_free(struct sql_script *s)
{
	for (size_t i = 0; i < s->len; i++) {
		free(s->stmts[i].text);
		free(s->stmts[i].meta_args);
		free(s->stmts[i].gset_args);
	}
	free(s->stmts);
	memset(s, 0, sizeof *s);
}
