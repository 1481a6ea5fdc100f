/* cli: flags, TINYRUN_* environment fallbacks, subcommands, --help and --version.
 *
 * A command is a table of options. Every --some-flag may also come from TINYRUN_SOME_FLAG or
 * from the file named by TINYRUN_SOME_FLAG_FILE; a flag on the command line wins over the
 * environment. The help text is generated from the same table, so it cannot drift. */
#ifndef TR_CLI_H
#define TR_CLI_H

#include <stdbool.h>

#include "strlist.h"

enum opt_kind {
	OPT_BOOL,     /* bool *: --flag, or TINYRUN_FLAG=1|true|yes|on / 0|false|no|off */
	OPT_STRING,   /* const char **: --flag VALUE or --flag=VALUE */
	OPT_INT,      /* long *: a whole number */
	OPT_DURATION, /* long * in milliseconds: 500ms, 30s (the default unit), 5m, 1h */
	OPT_LIST      /* struct strlist *: repeatable; the environment gives one value */
};

#define OPT_SECRET 0x1 /* the value is registered for redaction */

struct opt {
	const char *name; /* long name without dashes */
	char short_name;  /* 0 when none */
	enum opt_kind kind;
	void *dest;
	const char *metavar;
	const char *help;
	unsigned flags;
};

struct cmd;
typedef int (*cmd_fn)(const struct cmd *cmd, int argc, char **argv);

struct cmd {
	const char *name;                     /* full name as typed: "postgres-runner run" */
	const char *usage;                    /* what follows the name: "[flags] FILE... | -c SQL" */
	const char *summary;                  /* one line, shown in the parent's list */
	const char *description;              /* the manual: what it does, examples, exit codes */
	const struct opt *opts;               /* ends with a zeroed entry; may be NULL */
	const struct cmd *const *subcommands; /* ends with NULL; NULL for a leaf */
	cmd_fn run;                           /* a leaf's body */
};

/* Parse argv[1..] against cmd->opts (argv[0] is the command word). Positional arguments go to
 * rest; with subcommands, parsing stops at the first positional (the subcommand's name).
 * Returns 0 to go on, TR_EXIT_USAGE after logging the error, or CLI_DONE after --help. */
#define CLI_DONE (-1)
int cli_parse(const struct cmd *cmd, int argc, char **argv, struct strlist *rest);

/* A runner's main: parse the root's global flags, handle --help/--version, and hand the rest to
 * the named subcommand (whose run() calls cli_parse with its own table). Unless only help or the
 * version was printed, it ends with result_finish(): the result line, XCom and termination log.
 * Returns the exit code, so a runner's main is `return cli_main(&root, argc, argv);`. */
int cli_main(const struct cmd *root, int argc, char **argv);

/* The run() of a command group (a subcommand that has subcommands: "dbt-runner source freshness"):
 * parse the group's flags, then run the subcommand its first positional argument names. */
int cli_run_group(const struct cmd *group, int argc, char **argv);

/* The global flags every runner has; put CLI_GLOBAL_OPTS at the head of the root's table. */
struct cli_globals {
	const char *log_format;
	const char *log_level;
	const char *workdir;
	bool version;
};
extern struct cli_globals cli_globals;
/* clang-format off */
#define CLI_GLOBAL_OPTS                                                                            \
	{ "log-format", 0, OPT_STRING, &cli_globals.log_format, "FORMAT",                          \
	  "json, text or auto (json unless stderr is a terminal)", 0 },                            \
	{ "log-level", 0, OPT_STRING, &cli_globals.log_level, "LEVEL", "debug, info, warn or error", \
	  0 },                                                                                     \
	{ "workdir", 0, OPT_STRING, &cli_globals.workdir, "DIR",                                   \
	  "the only folder the runner writes to (default /tmp)", 0 },                              \
	{ "version", 0, OPT_BOOL, &cli_globals.version, NULL,                                      \
	  "print the version, git revision and library versions", 0 }
/* clang-format on */

#endif
