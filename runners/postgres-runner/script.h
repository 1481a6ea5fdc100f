/* script: the program `run` executes, read and checked whole before anything runs. The scripts
 * given on the command line (or -c) are split (sqlsplit.h), and every \i and \ir is read and
 * spliced in where it stands, in every \if branch: \i is relative to the working folder, \ir to
 * the including file, and a file that includes itself, directly or not, is an include cycle.
 * Checked up front: every meta-command is one we support (psqlmeta.h) with well-formed
 * arguments; \if ... \endif are balanced inside each file, with no \elif or \else after \else;
 * between \restrict KEY and \unrestrict KEY (pg_dump writes them) no other meta-command appears.
 * What depends on values (\if's booleans, \gset's row) is left to run time. No libpq. */
#ifndef PG_SCRIPT_H
#define PG_SCRIPT_H

#include <stddef.h>

#include "sqlsplit.h"
#include "strlist.h"

struct script_step {
	const struct sql_stmt *stmt;
	const char *file; /* the file it comes from, or "-c" */
	const char *cmd;  /* a meta-command's name as psqlmeta knows it (\include -> "i"); NULL for SQL */
};

struct script {
	struct script_step *steps;
	size_t len, cap;
	/* What the steps point into. */
	struct strlist files, texts;
	struct sql_script *parts;
	size_t nparts;
	size_t bytes; /* read so far, across all files */
};

/* Read files (or command, as "-c") into s. vars: the -v variables, for \i's file names. At most
 * max_bytes are read in all. Returns 0, or -1 with err ("FILE:LINE: what is wrong") and s empty. */
int script_load(struct script *s, const struct strlist *files, const char *command, const struct strlist *vars,
                size_t max_bytes, char *err, size_t errlen);
void script_free(struct script *s);

#endif
