/* tsqlscript: reads sqlcmd scripts into batches, whole, before anything runs. No FreeTDS.
 *
 * A script is read line by line. A line holding only GO (any case, leading and trailing blanks
 * allowed, then an optional count and an optional -- comment) ends the batch; GO 3 sends it three
 * times, and GO 0 or a count that is not a number from 1 to 2147483647 is an error. A line
 * starting with ':' is an sqlcmd command: :setvar NAME "value" (or a bare value; :setvar NAME alone
 * removes it), :r FILE (read where it stands, relative to the including file; an include cycle is
 * an error) and :on error exit|ignore; any other command, and !! shell commands, are errors. GO and
 * commands count only at the start of a line outside strings ('..', N'..' with '' escapes),
 * "quoted" and [bracketed] identifiers and block comments (which nest), all of which may span
 * lines; and -- comments.
 *
 * $(name) is replaced by the variable's value everywhere in SQL lines, inside strings and comments
 * too (as sqlcmd does), and in the arguments of GO, :setvar and :r; names are letters, digits, '_'
 * and '-', compared case-insensitively. A value is substituted once, never rescanned for $(...).
 * Since :setvar takes effect where it stands, every variable is resolved while the script is read:
 * an undefined one is an error naming the file and line, and nothing runs.
 *
 * Choices where sqlcmd is silent or unhelpful:
 * - a batch holding nothing but blanks and comments is dropped (never sent);
 * - a file (named, included or given as text) holding no SQL and no command at all, only blanks
 *   and comments, is an error: it is almost always the wrong file;
 * - a file that ends inside a string, a quoted identifier or a comment is an error naming the line
 *   where it opened (a batch never continues into the next file given on the command line, but
 *   an included file's lines join the batch that includes them, as in sqlcmd);
 * - on_error_exit defaults to true (the runner behaves like sqlcmd -b) until :on error ignore; each
 *   batch takes the setting in force at its GO;
 * - a UTF-8 byte order mark is skipped; UTF-16 text and NUL bytes are errors;
 * - the script is at most TSQL_SCRIPT_MAX_BYTES, all files together. */
#ifndef SQLSERVER_TSQLSCRIPT_H
#define SQLSERVER_TSQLSCRIPT_H

#include <stdbool.h>
#include <stddef.h>

#define TSQL_SCRIPT_MAX_BYTES (256u << 20)
#define TSQL_GO_COUNT_MAX     2147483647ul

/* The sqlcmd variables: -v name=value first, then :setvar as the script is read. */
struct tsql_vars *tsql_vars_new(void);
/* Set (or replace) a variable. Returns 0, or -1 with err when the name is not a valid name. */
int tsql_vars_set(struct tsql_vars *v, const char *name, const char *value, char *err, size_t errlen);
void tsql_vars_free(struct tsql_vars *v);

struct tsql_batch {
	const char *sql;     /* the batch's text, variables substituted, NUL-terminated */
	size_t len;          /* strlen(sql) */
	unsigned long count; /* GO N: how many times to run it (1 for a plain GO or the script's end) */
	const char *file;    /* where the batch starts */
	unsigned line;       /* 1-based */
	bool on_error_exit;  /* :on error exit (the default) or ignore, as set at its GO */
};

struct tsql_script {
	struct tsql_batch *batch;
	size_t n;
	/* private */
	size_t cap;
	char **names; /* the file names batches point at */
	size_t nnames;
	size_t bytes;       /* read so far, all files together */
	bool ignore_errors; /* :on error ignore is in force */
};

void tsql_script_init(struct tsql_script *s);
/* Read a file (and what it includes) and append its batches. vars may be changed by :setvar.
 * Returns 0, or -1 with "file:line: message" in err and s as it was before the call. */
int tsql_script_add_file(struct tsql_script *s, const char *path, struct tsql_vars *vars, char *err, size_t errlen);
/* The same for text given inline (-c); name is what messages call it, :r is relative to the
 * working folder. */
int tsql_script_add_text(struct tsql_script *s, const char *text, size_t len, const char *name, struct tsql_vars *vars,
                         char *err, size_t errlen);
void tsql_script_free(struct tsql_script *s);

#endif
