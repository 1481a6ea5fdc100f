/* sqlsplit: psql-compatible statement splitting and variable expansion (see sqlsplit.h). */
#include "sqlsplit.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"

struct scan {
	const char *p;
	int line;
	struct buf cur;  /* the statement being built */
	int cur_line;    /* where it started; 0 while it holds only blanks and comments */
	int paren;       /* ( depth: a ';' inside parentheses does not end a statement */
	int begin_depth; /* BEGIN ATOMIC ... END depth inside CREATE FUNCTION/PROCEDURE */
	int words;       /* identifiers seen in this statement, for the CREATE FUNCTION check */
	bool routine;    /* the statement is CREATE [OR REPLACE] FUNCTION|PROCEDURE */
	char first_words[4][16];
	const struct strlist *vars;
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

static void emit(struct scan *s)
{
	if (s->cur_line) {
		const char *text = buf_str(&s->cur);
		size_t start = strspn(text, " \t\r\n"), len = strlen(text);
		while (len > start && strchr(" \t\r\n", text[len - 1]))
			len--;
		s->out->stmts = xrealloc(s->out->stmts, (s->out->len + 1) * sizeof *s->out->stmts);
		s->out->stmts[s->out->len].text = xstrndup(text + start, len - start);
		s->out->stmts[s->out->len].line = s->cur_line;
		s->out->len++;
	}
	buf_reset(&s->cur);
	s->cur_line = s->paren = s->begin_depth = s->words = 0;
	s->routine = false;
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
		if (backslash_escapes && c == '\\' && s->p[i + 1]) {
			i += 2;
		} else if (c == quote && s->p[i + 1] == quote) {
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

/* What PQescapeLiteral makes: 'it''s', or  E'a\\b' when backslashes are present. */
static void append_literal(struct buf *b, const char *v)
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

static void append_identifier(struct buf *b, const char *v)
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
	char *n = xstrndup(name, len);
	bool known = false;
	for (size_t i = 0; i < s->out->unknown_vars.len; i++)
		known = known || strcmp(s->out->unknown_vars.items[i], n) == 0;
	if (!known)
		strlist_push(&s->out->unknown_vars, n);
	free(n);
}

/* At a ':' outside quotes: ::cast, :name, :'name', :"name", or a plain colon. */
static void scan_colon(struct scan *s)
{
	if (s->p[1] == ':') {
		take(s, 2);
		return;
	}
	char quote = (s->p[1] == '\'' || s->p[1] == '"') ? s->p[1] : 0;
	const char *name = s->p + 1 + (quote ? 1 : 0);
	size_t len = 0;
	while (is_ident_char(name[len]) && name[len] != '$')
		len++;
	if (len == 0 || !is_ident_start(name[0]) || (quote && name[len] != quote)) {
		take(s, 1);
		return;
	}
	size_t total = 1 + len + (quote ? 2 : 0);
	const char *value = sql_var_get(s->vars, name, len);
	if (!value) {
		note_unknown(s, name, len);
		take(s, total);
		return;
	}
	if (quote == '\'')
		append_literal(&s->cur, value);
	else if (quote == '"')
		append_identifier(&s->cur, value);
	else
		buf_puts(&s->cur, value);
	s->p += total;
}

static bool word_is(const char *word, const char *a, const char *b)
{
	return strcasecmp(word, a) == 0 || (b && strcasecmp(word, b) == 0);
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
	if (s->routine && word_is(word, "begin", NULL))
		s->begin_depth++;
	else if (s->begin_depth > 0 && word_is(word, "case", NULL))
		s->begin_depth++;
	else if (s->begin_depth > 0 && word_is(word, "end", NULL))
		s->begin_depth--;
	take(s, n);
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
	if (*p == ';' && s->paren == 0 && s->begin_depth == 0) {
		s->p++;
		emit(s); /* nothing when the statement is empty: ";;" */
		return 0;
	}
	mark_content(s);
	if (*p == '\\')
		return scan_fail(
		        s, s->line,
		        "psql meta-commands (lines with '\\') are not supported: the script must be plain SQL");
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

int sql_split(const char *text, const struct strlist *vars, struct sql_script *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	struct scan s = { .p = text, .line = 1, .vars = vars, .out = out, .err = err, .errlen = errlen };
	err[0] = '\0';
	while (*s.p) {
		if (scan_token(&s) < 0) {
			buf_free(&s.cur);
			sql_script_free(out);
			return -1;
		}
	}
	emit(&s);
	buf_free(&s.cur);
	return 0;
}

void sql_script_free(struct sql_script *s)
{
	for (size_t i = 0; i < s->len; i++)
		free(s->stmts[i].text);
	free(s->stmts);
	strlist_free(&s->unknown_vars);
	memset(s, 0, sizeof *s);
}
