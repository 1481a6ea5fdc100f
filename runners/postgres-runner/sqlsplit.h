/* sqlsplit: reads a psql script the way psql's lexer does: SQL statements, meta-command lines and
 * the inline data of COPY ... FROM stdin; and expands psql variables in one statement.
 *
 * A statement ends at a ';' outside quotes ('...', E'...', "..."), dollar quotes ($tag$...$tag$),
 * comments (-- and nested block comments), parentheses and BEGIN ATOMIC bodies. A backslash
 * outside quotes starts a meta-command that runs to the end of its line; only \gset may end a
 * statement, any other meta-command inside a statement is an error. After COPY ... FROM stdin;
 * the following lines up to a line "\." are the COPY's data, kept byte for byte.
 *
 * Splitting does not expand variables: \set and \gset change them while the script runs, so
 * sql_expand() substitutes them just before a statement is sent: :name as is, :'name' as a SQL
 * literal, :"name" as an identifier, :{?name} as TRUE or FALSE. An unknown variable is left
 * untouched, as psql does (so a[1:n] still works), and :: casts are never variables.
 * This module uses no libpq, so it is unit-tested and fuzzed on the host. */
#ifndef PG_SQLSPLIT_H
#define PG_SQLSPLIT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "strlist.h"

struct sql_stmt {
	char *text;            /* SQL without the terminating ';', or a meta-command's name without '\' */
	char *meta_args;       /* a meta-command's arguments as written (NULL for SQL) */
	char *gset_args;       /* SQL ended by \gset: its arguments as written ("" for none); else NULL */
	int line;              /* 1-based line where the statement or meta-command starts */
	bool copy_in;          /* COPY ... FROM stdin: copy_data holds its data (without the "\." line) */
	const char *copy_data; /* points into the split text, which must outlive the script */
	size_t copy_len;
};

struct sql_script {
	struct sql_stmt *stmts;
	size_t len;
};

/* Returns 0, or -1 with err ("line N: ..."). */
int sql_split(const char *text, struct sql_script *out, char *err, size_t errlen);
void sql_script_free(struct sql_script *s);

/* Substitute the variables of vars ("name=value" items, the last one of a name wins) in one
 * statement's text, appending the result to out. The names of :variables left untouched are
 * added to unknown (once each) when it is not NULL. Returns 0, or -1 with err. */
int sql_expand(const char *stmt, const struct strlist *vars, struct buf *out, struct strlist *unknown, char *err,
               size_t errlen);

/* The value of "name=value" in vars, or NULL. */
const char *sql_var_get(const struct strlist *vars, const char *name, size_t name_len);

/* :'name' and :"name": what PQescapeLiteral makes ('it''s', or  E'a\\b' when backslashes are
 * present) and a quoted identifier. */
void sql_append_literal(struct buf *b, const char *value);
void sql_append_identifier(struct buf *b, const char *value);

/* psql's rule for a variable reference :name: the first character and the rest. */
bool sql_is_var_start(char c);
bool sql_is_var_char(char c);

#endif
