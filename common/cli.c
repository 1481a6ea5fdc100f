/* cli: option tables, environment fallbacks, subcommand dispatch and generated help. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build_info.h"
#include "buf.h"
#include "exitcode.h"
#include "log.h"
#include "redact.h"
#include "result.h"
#include "secret.h"
#include "signals.h"

struct cli_globals cli_globals = { .workdir = "/tmp" };

static void print_help(const struct cmd *cmd);

static size_t opt_count(const struct opt *opts)
{
	size_t n = 0;
	while (opts && opts[n].name)
		n++;
	return n;
}

static char *env_name(const struct opt *o)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, "TINYRUN_");
	for (const char *p = o->name; *p; p++)
		buf_putc(&b, *p == '-' ? '_' : (char)toupper((unsigned char)*p));
	return buf_detach(&b);
}

static int parse_long(const char *s, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end)
		return -1;
	*out = v;
	return 0;
}

static int parse_duration_ms(const char *s, long *out)
{
	static const struct {
		const char *unit;
		long ms;
	} units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "", 1000 }, { "m", 60000 }, { "h", 3600000 },
	};
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || v < 0)
		return -1;
	for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
		if (strcmp(end, units[i].unit) == 0) {
			if (v > LONG_MAX / units[i].ms)
				return -1;
			*out = v * units[i].ms;
			return 0;
		}
	}
	return -1;
}

static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "1", "true", "yes", "on" }, *const no[] = { "0", "false", "no", "off" };
	for (int i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0 || strcasecmp(s, no[i]) == 0) {
			*out = strcasecmp(s, yes[i]) == 0;
			return 0;
		}
	}
	return -1;
}

/* Store one value; where says where it came from, for the error message. */
static int opt_assign(const struct cmd *cmd, const struct opt *o, const char *value, const char *where)
{
	int bad = 0;
	switch (o->kind) {
	case OPT_BOOL: bad = parse_bool(value, o->dest); break;
	case OPT_STRING: *(const char **)o->dest = value; break;
	case OPT_INT: bad = parse_long(value, o->dest); break;
	case OPT_DURATION: bad = parse_duration_ms(value, o->dest); break;
	case OPT_LIST: strlist_push(o->dest, value); break;
	}
	if (o->flags & OPT_SECRET)
		redact_add(value);
	if (bad) {
		return result_fail(TR_EXIT_USAGE, "usage", "%s: invalid value '%s' for %s; see '%s --help'", cmd->name,
		                   value, where, cmd->name);
	}
	return 0;
}

static const struct opt *find_long(const struct opt *opts, const char *name, size_t len)
{
	for (size_t i = 0; opts && opts[i].name; i++)
		if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
			return &opts[i];
	return NULL;
}

static const struct opt *find_short(const struct opt *opts, char c)
{
	for (size_t i = 0; opts && opts[i].name; i++)
		if (opts[i].short_name == c)
			return &opts[i];
	return NULL;
}

static int unknown_flag(const struct cmd *cmd, const char *arg)
{
	return result_fail(TR_EXIT_USAGE, "usage", "%s: unknown flag '%s'; see '%s --help'", cmd->name, arg, cmd->name);
}

/* One argument that starts with '-'. *i is advanced past any value it consumes. */
static int parse_flag(const struct cmd *cmd, int argc, char **argv, int *i, bool *seen)
{
	const char *arg = argv[*i], *value = NULL;
	const struct opt *o;
	if (arg[1] == '-') {
		const char *name = arg + 2, *eq = strchr(name, '=');
		o = find_long(cmd->opts, name, eq ? (size_t)(eq - name) : strlen(name));
		value = eq ? eq + 1 : NULL;
	} else {
		o = find_short(cmd->opts, arg[1]);
		value = arg[2] ? arg + 2 : NULL;
	}
	if (!o)
		return unknown_flag(cmd, arg);
	seen[o - cmd->opts] = true;
	if (o->kind == OPT_BOOL && !value) {
		*(bool *)o->dest = true;
		return 0;
	}
	if (!value) {
		if (*i + 1 >= argc) {
			return result_fail(TR_EXIT_USAGE, "usage", "%s: flag '%s' needs a value (%s); see '%s --help'",
			                   cmd->name, arg, o->metavar ? o->metavar : "VALUE", cmd->name);
		}
		value = argv[++*i];
	}
	return opt_assign(cmd, o, value, arg);
}

/* TINYRUN_<NAME>_FILE belongs to the flag --<name>-file when the command has one (--conn-file),
 * so it is not also read as a file holding --<name>'s value. */
static bool has_file_flag(const struct cmd *cmd, const struct opt *o)
{
	struct buf file_flag = BUF_INIT;
	buf_printf(&file_flag, "%s-file", o->name);
	bool found = find_long(cmd->opts, buf_str(&file_flag), file_flag.len) != NULL;
	buf_free(&file_flag);
	return found;
}

/* Flags not given on the command line may come from TINYRUN_<NAME> or TINYRUN_<NAME>_FILE. */
static int apply_env(const struct cmd *cmd, const bool *seen)
{
	for (size_t i = 0; i < opt_count(cmd->opts); i++) {
		const struct opt *o = &cmd->opts[i];
		if (seen[i])
			continue;
		char *name = env_name(o), *value = NULL, err[512];
		int rc = 0;
		if (has_file_flag(cmd, o))
			value = getenv(name) ? xstrdup(getenv(name)) : NULL;
		else
			rc = secret_getenv(name, o->flags & OPT_SECRET, &value, err, sizeof err);
		if (rc) {
			rc = result_fail(TR_EXIT_USAGE, "config", "%s", err);
		} else if (value) {
			rc = opt_assign(cmd, o, value, name);
			if (o->kind == OPT_STRING)
				value = NULL; /* the option points into it for the life of the process */
		}
		free(value);
		free(name);
		if (rc)
			return rc;
	}
	return 0;
}

static int parse_args(const struct cmd *cmd, int argc, char **argv, struct strlist *rest, bool *seen)
{
	bool only_positional = false;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (only_positional || arg[0] != '-' || arg[1] == '\0') {
			if (cmd->subcommands) {
				for (; i < argc; i++)
					strlist_push(rest, argv[i]);
				break;
			}
			strlist_push(rest, arg);
		} else if (strcmp(arg, "--") == 0) {
			only_positional = true;
		} else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			print_help(cmd);
			return CLI_DONE;
		} else {
			int rc = parse_flag(cmd, argc, argv, &i, seen);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int cli_parse(const struct cmd *cmd, int argc, char **argv, struct strlist *rest)
{
	size_t n = opt_count(cmd->opts) + 1;
	bool *seen = memset(xmalloc(n * sizeof(bool)), 0, n * sizeof(bool)); /* flags the command line gave */
	int rc = parse_args(cmd, argc, argv, rest, seen);
	if (rc == 0)
		rc = apply_env(cmd, seen);
	free(seen);
	return rc;
}

/* The word that selects a subcommand: the last word of its full name ("run" of "postgres-runner run"). */
static const char *command_word(const struct cmd *cmd)
{
	const char *last = strrchr(cmd->name, ' ');
	return last ? last + 1 : cmd->name;
}

static void print_opt(FILE *out, const struct opt *o)
{
	struct buf left = BUF_INIT;
	char *env = env_name(o);
	if (o->short_name)
		buf_printf(&left, "-%c, ", o->short_name);
	buf_printf(&left, "--%s", o->name);
	if (o->kind != OPT_BOOL)
		buf_printf(&left, " %s", o->metavar ? o->metavar : "VALUE");
	fprintf(out, "  %-28s %s%s\n  %-28s [env %s]\n", buf_str(&left), o->help,
	        o->kind == OPT_LIST ? " (repeatable)" : "", "", env);
	free(env);
	buf_free(&left);
}

static void print_help(const struct cmd *cmd)
{
	printf("Usage: %s %s\n\n%s\n", cmd->name, cmd->usage, cmd->summary);
	if (cmd->description)
		printf("\n%s", cmd->description);
	if (cmd->subcommands) {
		printf("\nCommands:\n");
		for (const struct cmd *const *s = cmd->subcommands; *s; s++)
			printf("  %-12s %s\n", command_word(*s), (*s)->summary);
	}
	if (opt_count(cmd->opts)) {
		printf("\nFlags:\n");
		for (const struct opt *o = cmd->opts; o->name; o++)
			print_opt(stdout, o);
		printf("  %-28s %s\n", "-h, --help", "show this help");
	}
	if (cmd->subcommands) {
		printf("\nExit codes:\n");
		for (const struct tr_exit_meaning *m = tr_exit_meanings; m->label; m++)
			printf("  %-6s %s\n", m->label, m->meaning);
		printf("\nRun '%s COMMAND --help' for a command's manual.\n", cmd->name);
	}
}

static void print_version(const char *runner)
{
	printf("%s %s (git %s)\nlibraries: %s\n", runner, TR_VERSION, TR_GIT_REV, TR_DEPS_VERSIONS);
}

static int apply_globals(void)
{
	if (cli_globals.log_format && log_set_format(cli_globals.log_format) < 0) {
		return result_fail(TR_EXIT_USAGE, "usage", "--log-format must be json, text or auto, not '%s'",
		                   cli_globals.log_format);
	}
	if (cli_globals.log_level && log_set_level(cli_globals.log_level) < 0) {
		return result_fail(TR_EXIT_USAGE, "usage", "--log-level must be debug, info, warn or error, not '%s'",
		                   cli_globals.log_level);
	}
	return 0;
}

static const struct cmd *find_subcommand(const struct cmd *root, const char *word)
{
	for (const struct cmd *const *s = root->subcommands; *s; s++)
		if (strcmp(command_word(*s), word) == 0)
			return *s;
	return NULL;
}

/* Run the subcommand that rest's first word names. */
static int dispatch(const struct cmd *root, const struct strlist *rest)
{
	if (rest->len == 0)
		return result_fail(TR_EXIT_USAGE, "usage", "%s: missing command; see '%s --help'", root->name,
		                   root->name);
	const struct cmd *sub = find_subcommand(root, rest->items[0]);
	if (!sub)
		return result_fail(TR_EXIT_USAGE, "usage", "%s: unknown command '%s'; see '%s --help'", root->name,
		                   rest->items[0], root->name);
	return sub->run(sub, (int)rest->len, rest->items);
}

int cli_run_group(const struct cmd *group, int argc, char **argv)
{
	struct strlist rest = { 0 };
	int rc = cli_parse(group, argc, argv, &rest);
	if (rc == 0)
		rc = dispatch(group, &rest);
	strlist_free(&rest);
	return rc;
}

int cli_main(const struct cmd *root, int argc, char **argv)
{
	struct strlist rest = { 0 };
	int sig_err = sig_install() < 0 ? errno : 0; /* first: PID 1 must honour SIGTERM from the start */
	log_init(root->name);
	result_object(); /* starts the run's clock */
	int rc = 0;
	if (sig_err)
		rc = result_fail(TR_EXIT_FAILED, "signals", "cannot install signal handlers: %s", strerror(sig_err));
	if (rc == 0)
		rc = cli_parse(root, argc, argv, &rest);
	if (rc == 0)
		rc = apply_globals();
	if (rc == 0 && cli_globals.version) {
		print_version(root->name);
		rc = CLI_DONE;
	}
	if (rc == 0)
		rc = dispatch(root, &rest);
	strlist_free(&rest);
	return rc == CLI_DONE ? TR_EXIT_OK : result_finish(rc);
}
