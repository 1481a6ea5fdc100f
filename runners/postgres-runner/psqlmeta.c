/* psqlmeta: psql meta-commands: arguments, variables, booleans and the \if stack (see psqlmeta.h). */
#include "psqlmeta.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "sqlsplit.h"

const char *meta_canonical(const char *name)
{
	static const char *const names[][2] = {
		{ "set", "set" },
		{ "unset", "unset" },
		{ "echo", "echo" },
		{ "i", "i" },
		{ "include", "i" },
		{ "ir", "ir" },
		{ "include_relative", "ir" },
		{ "if", "if" },
		{ "elif", "elif" },
		{ "else", "else" },
		{ "endif", "endif" },
		{ "gset", "gset" },
		{ "restrict", "restrict" },
		{ "unrestrict", "unrestrict" },
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(name, names[i][0]) == 0)
			return names[i][1];
	return NULL;
}

bool meta_is_conditional(const char *cmd)
{
	return strcmp(cmd, "if") == 0 || strcmp(cmd, "elif") == 0 || strcmp(cmd, "else") == 0 ||
	       strcmp(cmd, "endif") == 0;
}

static int args_fail(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s", what);
	return -1;
}

static int hex_value(char c)
{
	return isdigit((unsigned char)c) ? c - '0' : tolower((unsigned char)c) - 'a' + 10;
}

/* One backslash escape inside 'text', p just after the backslash. Returns the bytes read. */
static size_t quoted_escape(const char *p, struct buf *arg)
{
	static const char simple[] = "n\nt\tb\br\rf\f";
	const char *s = strchr(simple, *p);
	if (s && (s - simple) % 2 == 0) {
		buf_putc(arg, s[1]);
		return 1;
	}
	size_t n = 0;
	int value = 0;
	if (*p >= '0' && *p <= '7') {
		while (n < 3 && p[n] >= '0' && p[n] <= '7')
			value = value * 8 + (p[n++] - '0');
	} else if (*p == 'x' && isxdigit((unsigned char)p[1])) {
		for (n = 1; n < 3 && isxdigit((unsigned char)p[n]); n++)
			value = value * 16 + hex_value(p[n]);
	} else {
		buf_putc(arg, *p);
		return 1;
	}
	buf_putc(arg, (char)value);
	return n;
}

/* 'text': '' is a quote, backslash escapes as psql's. Returns the bytes read, or 0 when unterminated. */
static size_t single_quoted(const char *p, struct buf *arg)
{
	size_t i = 1;
	for (;;) {
		if (!p[i] || (p[i] == '\\' && !p[i + 1]))
			return 0;
		if (p[i] == '\'' && p[i + 1] == '\'') {
			buf_putc(arg, '\'');
			i += 2;
		} else if (p[i] == '\'') {
			return i + 1;
		} else if (p[i] == '\\') {
			i += 1 + quoted_escape(p + i + 1, arg);
		} else {
			buf_putc(arg, p[i++]);
		}
	}
}

/* "text", kept with its quotes as psql does for ordinary arguments. Returns 0 when unterminated. */
static size_t double_quoted(const char *p, struct buf *arg)
{
	size_t i = 1;
	while (p[i] && (p[i] != '"' || p[i + 1] == '"'))
		i += p[i] == '"' ? 2 : 1;
	if (!p[i])
		return 0;
	buf_append(arg, p, i + 1);
	return i + 1;
}

/* :name, :'name', :"name" or :{?name} at p. Returns the bytes read. */
static size_t variable(const char *p, const struct strlist *vars, struct buf *arg)
{
	bool test = p[1] == '{' && p[2] == '?';
	char quote = (p[1] == '\'' || p[1] == '"') ? p[1] : 0;
	const char *name = p + 1 + (test ? 2 : quote ? 1 : 0);
	size_t len = 0;
	while (sql_is_var_char(name[len]))
		len++;
	char close = test ? '}' : quote;
	if (len == 0 || !sql_is_var_start(name[0]) || (close && name[len] != close)) {
		buf_putc(arg, ':');
		return 1;
	}
	size_t total = (size_t)(name - p) + len + (close ? 1 : 0);
	const char *value = sql_var_get(vars, name, len);
	if (test)
		buf_puts(arg, value ? "TRUE" : "FALSE");
	else if (!value)
		buf_append(arg, p, total);
	else if (quote == '\'')
		sql_append_literal(arg, value);
	else if (quote == '"')
		sql_append_identifier(arg, value);
	else
		buf_puts(arg, value);
	return total;
}

/* One argument at p (not blank). Returns the bytes read, or 0 with err. */
static size_t one_arg(const char *p, const struct strlist *vars, struct buf *arg, char *err, size_t errlen)
{
	size_t i = 0;
	while (p[i] && !strchr(" \t\r\n", p[i])) {
		size_t n = 1;
		if (p[i] == '\'')
			n = single_quoted(p + i, arg);
		else if (p[i] == '"')
			n = double_quoted(p + i, arg);
		else if (p[i] == '`')
			n = 0;
		else if (p[i] == ':' && p[i + 1] == ':')
			buf_append(arg, p + i, n = 2);
		else if (p[i] == ':')
			n = variable(p + i, vars, arg);
		else
			buf_putc(arg, p[i]);
		if (n == 0) {
			args_fail(err, errlen,
			          p[i] == '`'
			                  ? "backquotes (shell commands) are not supported in meta-command arguments"
			                  : "unterminated quoted string in the meta-command's arguments");
			return 0;
		}
		i += n;
	}
	return i;
}

int meta_args(const char *raw, const struct strlist *vars, struct strlist *out, char *err, size_t errlen)
{
	struct buf arg = BUF_INIT;
	const char *p = raw + strspn(raw, " \t\r\n");
	while (*p) {
		buf_reset(&arg);
		size_t n = one_arg(p, vars, &arg, err, errlen);
		if (n == 0) {
			buf_free(&arg);
			return -1;
		}
		strlist_push(out, buf_str(&arg));
		p += n;
		p += strspn(p, " \t\r\n");
	}
	buf_free(&arg);
	return 0;
}

int meta_check_args(const char *cmd, const struct strlist *args, char *err, size_t errlen)
{
	static const char *const need_one[] = { "unset", "i", "ir", "if", "elif", "restrict", "unrestrict", NULL };
	for (const char *const *c = need_one; *c; c++)
		if (strcmp(cmd, *c) == 0 && args->len == 0) {
			snprintf(err, errlen, "missing required argument");
			return -1;
		}
	bool names_var = strcmp(cmd, "set") == 0 || strcmp(cmd, "unset") == 0;
	if (names_var && args->len > 0 && !meta_var_name_ok(args->items[0])) {
		snprintf(err, errlen, "invalid variable name: \"%.100s\"", args->items[0]);
		return -1;
	}
	if (strcmp(cmd, "gset") == 0 && args->len > 1)
		return args_fail(err, errlen, "takes at most one argument, the prefix of the variable names");
	return 0;
}

bool meta_parse_bool(const char *value, bool *out)
{
	size_t len = strlen(value);
	static const struct {
		const char *word;
		size_t min; /* the shortest unique prefix */
		bool value;
	} words[] = { { "true", 1, true }, { "false", 1, false }, { "yes", 1, true }, { "no", 1, false },
		      { "on", 2, true },   { "off", 2, false },   { "1", 1, true },   { "0", 1, false } };
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		if (len >= words[i].min && len <= strlen(words[i].word) &&
		    strncasecmp(value, words[i].word, len) == 0) {
			*out = words[i].value;
			return true;
		}
	}
	return false;
}

bool meta_var_name_ok(const char *name)
{
	if (!*name)
		return false;
	for (; *name; name++)
		if (!isalnum((unsigned char)*name) && *name != '_' && (unsigned char)*name < 0x80)
			return false;
	return true;
}

static long var_index(const struct strlist *vars, const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < vars->len; i++)
		if (strncmp(vars->items[i], name, len) == 0 && vars->items[i][len] == '=')
			return (long)i;
	return -1;
}

void meta_var_unset(struct strlist *vars, const char *name)
{
	long i;
	while ((i = var_index(vars, name)) >= 0) { /* -v may have given a name more than once */
		free(vars->items[i]);
		memmove(&vars->items[i], &vars->items[i + 1], (vars->len - (size_t)i - 1) * sizeof *vars->items);
		vars->len--;
	}
}

void meta_var_set(struct strlist *vars, const char *name, const char *value)
{
	struct buf item = BUF_INIT;
	buf_printf(&item, "%s=%s", name, value);
	meta_var_unset(vars, name);
	strlist_push(vars, buf_str(&item));
	buf_free(&item);
}

bool meta_active(const struct meta_state *st)
{
	if (st->cond.len == 0)
		return true;
	enum cond_state top = st->cond.items[st->cond.len - 1];
	return top == COND_TRUE || top == COND_ELSE_TRUE;
}

static void cond_push(struct cond_stack *c, enum cond_state state)
{
	if (c->len == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 8;
		c->items = xrealloc(c->items, c->cap * sizeof *c->items);
	}
	c->items[c->len++] = state;
}

/* The expression of \if or \elif: its arguments joined by blanks, as a psql boolean. */
static int eval_condition(struct meta_state *st, const char *cmd, const char *raw, bool *value, char *err,
                          size_t errlen)
{
	struct strlist args = { 0 };
	struct buf expr = BUF_INIT;
	int rc = meta_args(raw, &st->vars, &args, err, errlen);
	for (size_t i = 0; rc == 0 && i < args.len; i++)
		buf_printf(&expr, "%s%s", i ? " " : "", args.items[i]);
	if (rc == 0 && !meta_parse_bool(buf_str(&expr), value)) {
		snprintf(err, errlen, "unrecognized value \"%.100s\" for \"\\%s expression\": Boolean expected",
		         buf_str(&expr), cmd);
		rc = -1;
	}
	strlist_free(&args);
	buf_free(&expr);
	return rc;
}

/* psql's rules: only the first true branch runs, and nothing inside an inactive branch is read. */
static int run_conditional(struct meta_state *st, const char *cmd, const char *raw, char *err, size_t errlen)
{
	bool value = false;
	if (strcmp(cmd, "if") == 0) {
		bool active = meta_active(st);
		if (active && eval_condition(st, cmd, raw, &value, err, errlen))
			return -1;
		cond_push(&st->cond, !active ? COND_IGNORED : value ? COND_TRUE : COND_FALSE);
		return 0;
	}
	if (st->cond.len == 0) {
		snprintf(err, errlen, "\\%s: no matching \\if", cmd);
		return -1;
	}
	enum cond_state *top = &st->cond.items[st->cond.len - 1];
	if (strcmp(cmd, "endif") == 0) {
		st->cond.len--;
	} else if (strcmp(cmd, "else") == 0) {
		*top = *top == COND_FALSE ? COND_ELSE_TRUE : COND_ELSE_FALSE;
	} else if (*top == COND_FALSE) {
		if (eval_condition(st, cmd, raw, &value, err, errlen))
			return -1;
		*top = value ? COND_TRUE : COND_FALSE;
	} else {
		*top = COND_IGNORED;
	}
	return 0;
}

static void list_variables(const struct meta_state *st)
{
	for (size_t i = 0; i < st->vars.len; i++) {
		const char *item = st->vars.items[i], *eq = strchr(item, '=');
		fprintf(st->out, "%.*s = '%s'\n", (int)(eq - item), item, eq + 1);
	}
}

static void echo(const struct meta_state *st, const struct strlist *args)
{
	bool newline = !(args->len > 0 && strcmp(args->items[0], "-n") == 0);
	for (size_t i = newline ? 0 : 1; i < args->len; i++)
		fprintf(st->out, "%s%s", i > (newline ? 0 : 1) ? " " : "", args->items[i]);
	if (newline)
		fputc('\n', st->out);
	fflush(st->out);
}

/* A script that sets a variable from itself twice per line would grow it exponentially. */
#define VALUE_MAX ((size_t)16 * 1024 * 1024)

static int set_variable(struct meta_state *st, const struct strlist *args, char *err, size_t errlen)
{
	struct buf value = BUF_INIT;
	for (size_t i = 1; i < args->len && value.len <= VALUE_MAX; i++) /* psql joins the values without blanks */
		buf_puts(&value, args->items[i]);
	int rc = value.len <= VALUE_MAX ? 0 : args_fail(err, errlen, "the value would be longer than 16 MB");
	if (rc == 0)
		meta_var_set(&st->vars, args->items[0], buf_str(&value));
	buf_free(&value);
	return rc;
}

int meta_run(struct meta_state *st, const char *cmd, const char *raw_args, char *err, size_t errlen)
{
	if (meta_is_conditional(cmd))
		return run_conditional(st, cmd, raw_args, err, errlen);
	if (!meta_active(st))
		return 0;
	struct strlist args = { 0 };
	int rc = meta_args(raw_args, &st->vars, &args, err, errlen);
	if (rc == 0)
		rc = meta_check_args(cmd, &args, err, errlen);
	if (rc == 0 && strcmp(cmd, "set") == 0 && args.len == 0)
		list_variables(st);
	else if (rc == 0 && strcmp(cmd, "set") == 0)
		rc = set_variable(st, &args, err, errlen);
	else if (rc == 0 && strcmp(cmd, "unset") == 0)
		meta_var_unset(&st->vars, args.items[0]);
	else if (rc == 0 && strcmp(cmd, "echo") == 0)
		echo(st, &args);
	strlist_free(&args);
	return rc;
}

void meta_state_free(struct meta_state *st)
{
	strlist_free(&st->vars);
	free(st->cond.items);
	memset(st, 0, sizeof *st);
}
