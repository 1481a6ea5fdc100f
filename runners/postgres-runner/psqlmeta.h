/* psqlmeta: the psql meta-commands `run` supports, as psql runs them: reading their arguments
 * (quotes and :variables), the variables themselves (\set, \unset, \echo, and the targets of
 * \gset), psql's booleans, and the \if/\elif/\else/\endif stack. Commands that need the server
 * (\gset) or the files (\i, \ir) are run by their callers with these pieces. No libpq: this module
 * is unit-tested on the host. */
#ifndef PG_PSQLMETA_H
#define PG_PSQLMETA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "strlist.h"

/* The supported command a name stands for ("include" -> "i"), or NULL when it is not supported. */
const char *meta_canonical(const char *name);

/* Whether the command is \if, \elif, \else or \endif. */
bool meta_is_conditional(const char *cmd);

/* Read a meta-command's arguments as psql does: blanks separate them; 'text' with '' and
 * backslash escapes (\n \t \b \r \f, octal, \xHH); "text" kept with its double quotes; :name,
 * :'name', :"name" and :{?name} substituted from vars outside quotes (unknown names stay as
 * written). Backquotes (shell commands) are refused. Returns 0, or -1 with err. */
int meta_args(const char *raw, const struct strlist *vars, struct strlist *out, char *err, size_t errlen);

/* What is wrong with these arguments for the (canonical) command, checked before anything runs;
 * returns 0, or -1 with err. */
int meta_check_args(const char *cmd, const struct strlist *args, char *err, size_t errlen);

/* psql's boolean: a unique case-insensitive prefix of true, false, yes, no, on, off, or 1, 0. */
bool meta_parse_bool(const char *value, bool *out);

/* Variables as "name=value" items of a strlist (what sql_expand reads). */
bool meta_var_name_ok(const char *name);
void meta_var_set(struct strlist *vars, const char *name, const char *value);
void meta_var_unset(struct strlist *vars, const char *name);

/* The \if stack, with psql's states. */
enum cond_state { COND_TRUE, COND_FALSE, COND_IGNORED, COND_ELSE_TRUE, COND_ELSE_FALSE };
struct cond_stack {
	enum cond_state *items;
	size_t len, cap;
};

struct meta_state {
	struct strlist vars;
	struct cond_stack cond;
	FILE *out; /* where \echo and \set without arguments print */
};

/* Whether SQL and commands other than the conditionals run here (no \if, or all branches true). */
bool meta_active(const struct meta_state *st);

/* Run one of \set, \unset, \echo, \if, \elif, \else, \endif, \restrict, \unrestrict, \i, \ir
 * (the last four only take effect before the script runs). Returns 0, or -1 with err: an invalid
 * boolean in \if or \elif. */
int meta_run(struct meta_state *st, const char *cmd, const char *raw_args, char *err, size_t errlen);

void meta_state_free(struct meta_state *st);

#endif
