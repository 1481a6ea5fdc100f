/* Unit tests: cli_parse (flags, TINYRUN_* environment, durations, bools, lists) and cli_main. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "exitcode.h"
#include "log.h"
#include "redact.h"
#include "tt.h"

static bool flag_verbose, flag_tx;
static const char *flag_conn, *flag_password, *flag_output;
static long flag_retries = -1, flag_timeout = -1;
static struct strlist flag_vars;

static const struct opt test_opts[] = {
	{ "verbose", 'V', OPT_BOOL, &flag_verbose, NULL, "talk more", 0 },
	{ "no-transaction", 0, OPT_BOOL, &flag_tx, NULL, "autocommit", 0 },
	{ "conn", 'C', OPT_STRING, &flag_conn, "ID", "connection id", 0 },
	{ "password", 0, OPT_STRING, &flag_password, "PW", "a secret", OPT_SECRET },
	{ "output", 'o', OPT_STRING, &flag_output, "FILE", "where to", 0 },
	{ "retries", 0, OPT_INT, &flag_retries, "N", "how often", 0 },
	{ "statement-timeout", 't', OPT_DURATION, &flag_timeout, "DURATION", "per statement", 0 },
	{ "set", 'v', OPT_LIST, &flag_vars, "NAME=VALUE", "a variable", 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 },
};

static const struct cmd test_cmd = { "tool run", "[flags] FILE...", "runs things", NULL, test_opts, NULL, NULL };

/* Parse a NULL-terminated argument list; stderr (the log) is captured into *log when log is set. */
static int parse(struct strlist *rest, char **log, const char *const *args)
{
	char *argv[32];
	int argc = 0;
	argv[argc++] = (char *)"run";
	while (*args && argc < 31)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	log_set_format("json");
	struct tt_capture cap;
	tt_capture_start(&cap, 2);
	int rc = cli_parse(&test_cmd, argc, argv, rest);
	char *text = tt_capture_end(&cap);
	if (log)
		*log = text;
	else
		free(text);
	return rc;
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void long_and_short_flags(void)
{
	struct strlist rest = { 0 };
	int rc = parse(&rest, NULL,
	               ARGS("--verbose", "--conn", "pg", "-o", "out.csv", "--retries", "3", "-t", "500ms", "a.sql",
	                    "-v", "x=1", "--set", "y=2", "b.sql"));
	CHECK_INT(rc, 0);
	CHECK(flag_verbose);
	CHECK(!flag_tx);
	CHECK_STR(flag_conn, "pg");
	CHECK_STR(flag_output, "out.csv");
	CHECK_INT(flag_retries, 3);
	CHECK_INT(flag_timeout, 500);
	CHECK_INT(flag_vars.len, 2);
	CHECK_STR(flag_vars.items[0], "x=1");
	CHECK_STR(flag_vars.items[1], "y=2");
	CHECK_INT(rest.len, 2);
	CHECK_STR(rest.items[0], "a.sql");
	CHECK_STR(rest.items[1], "b.sql");
	strlist_free(&rest);
	strlist_free(&flag_vars);
}

static void equals_and_attached_values(void)
{
	struct strlist rest = { 0 };
	int rc = parse(&rest, NULL, ARGS("--conn=a=b", "-opath", "--retries=-2", "-Cx", "--output=", "-vk=v"));
	CHECK_INT(rc, 0);
	CHECK_STR(flag_conn, "x");
	CHECK_STR(flag_output, "");
	CHECK_INT(flag_retries, -2);
	CHECK_INT(flag_vars.len, 1);
	CHECK_STR(flag_vars.items[0], "k=v");
	CHECK_INT(rest.len, 0);
	strlist_free(&flag_vars);
}

static void double_dash_ends_flags(void)
{
	struct strlist rest = { 0 };
	int rc = parse(&rest, NULL, ARGS("--verbose", "--", "--conn", "-", "-x"));
	CHECK_INT(rc, 0);
	CHECK(flag_verbose);
	CHECK(flag_conn == NULL);
	CHECK_INT(rest.len, 3);
	CHECK_STR(rest.items[0], "--conn");
	CHECK_STR(rest.items[1], "-");
	CHECK_STR(rest.items[2], "-x");
	strlist_free(&rest);
}

static void single_dash_is_positional(void)
{
	struct strlist rest = { 0 };
	CHECK_INT(parse(&rest, NULL, ARGS("-")), 0);
	CHECK_INT(rest.len, 1);
	CHECK_STR(rest.items[0], "-");
	strlist_free(&rest);
}

static void unknown_flag_is_usage_error(void)
{
	struct strlist rest = { 0 };
	char *log;
	CHECK_INT(parse(&rest, &log, ARGS("--bogus")), TR_EXIT_USAGE);
	CHECK_CONTAINS(log, "unknown flag '--bogus'");
	CHECK_CONTAINS(log, "\"level\":\"error\"");
	free(log);
	CHECK_INT(parse(&rest, &log, ARGS("-z")), TR_EXIT_USAGE);
	CHECK_CONTAINS(log, "unknown flag '-z'");
	free(log);
	CHECK_INT(parse(&rest, &log, ARGS("--verb")), TR_EXIT_USAGE);
	free(log);
	CHECK_INT(parse(&rest, &log, ARGS("--conn-id=x")), TR_EXIT_USAGE);
	free(log);
	strlist_free(&rest);
}

static void missing_value_is_usage_error(void)
{
	struct strlist rest = { 0 };
	char *log;
	CHECK_INT(parse(&rest, &log, ARGS("--conn")), TR_EXIT_USAGE);
	CHECK_CONTAINS(log, "needs a value (ID)");
	free(log);
	CHECK_INT(parse(&rest, &log, ARGS("-t")), TR_EXIT_USAGE);
	free(log);
}

static void bad_values_are_usage_errors(void)
{
	static const char *const bad[][2] = {
		{ "--retries", "3x" },
		{ "--retries", "" },
		{ "--retries", "99999999999999999999" },
		{ "-t", "5 s" },
		{ "-t", "-5s" },
		{ "-t", "5d" },
		{ "-t", "ms" },
		{ "--verbose=maybe", NULL },
		{ "--no-transaction=", NULL },
		{ "-t", "9223372036854775h" },
		{ "-t", "222222322222222222" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct strlist rest = { 0 };
		char *log;
		int rc = bad[i][1] ? parse(&rest, &log, ARGS(bad[i][0], bad[i][1]))
		                   : parse(&rest, &log, ARGS(bad[i][0]));
		if (rc != TR_EXIT_USAGE)
			tt_report(__FILE__, __LINE__, "%s %s: rc %d", bad[i][0], bad[i][1] ? bad[i][1] : "", rc);
		CHECK_CONTAINS(log, "invalid value");
		free(log);
	}
}

static void durations(void)
{
	static const struct {
		const char *text;
		long ms;
	} cases[] = {
		{ "500ms", 500 },  { "30s", 30000 }, { "30", 30000 }, { "5m", 300000 },
		{ "1h", 3600000 }, { "0", 0 },       { "0ms", 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct strlist rest = { 0 };
		flag_timeout = -1;
		CHECK_INT(parse(&rest, NULL, ARGS("--statement-timeout", cases[i].text)), 0);
		if (flag_timeout != cases[i].ms)
			tt_report(__FILE__, __LINE__, "%s: %ld ms, want %ld", cases[i].text, flag_timeout, cases[i].ms);
	}
}

static void bools_from_flag_values(void)
{
	static const char *const yes[] = { "1", "true", "yes", "on", "TRUE", "Yes" };
	static const char *const no[] = { "0", "false", "no", "off", "OFF" };
	char arg[64];
	struct strlist rest = { 0 };
	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
		flag_verbose = false;
		snprintf(arg, sizeof arg, "--verbose=%s", yes[i]);
		CHECK_INT(parse(&rest, NULL, ARGS(arg)), 0);
		CHECK(flag_verbose);
	}
	for (size_t i = 0; i < sizeof no / sizeof *no; i++) {
		flag_verbose = true;
		snprintf(arg, sizeof arg, "--verbose=%s", no[i]);
		CHECK_INT(parse(&rest, NULL, ARGS(arg)), 0);
		CHECK(!flag_verbose);
	}
	/* A bool never takes the next argument as its value. */
	CHECK_INT(parse(&rest, NULL, ARGS("-V", "false")), 0);
	CHECK(flag_verbose);
	CHECK_INT(rest.len, 1);
	strlist_free(&rest);
}

static void env_fallback(void)
{
	setenv("TINYRUN_CONN", "from-env", 1);
	setenv("TINYRUN_NO_TRANSACTION", "yes", 1);
	setenv("TINYRUN_STATEMENT_TIMEOUT", "5m", 1);
	setenv("TINYRUN_RETRIES", "7", 1);
	setenv("TINYRUN_SET", "a=b", 1);
	struct strlist rest = { 0 };
	CHECK_INT(parse(&rest, NULL, ARGS("x.sql")), 0);
	CHECK_STR(flag_conn, "from-env");
	CHECK(flag_tx);
	CHECK_INT(flag_timeout, 300000);
	CHECK_INT(flag_retries, 7);
	CHECK_INT(flag_vars.len, 1);
	CHECK_STR(flag_vars.items[0], "a=b");
	strlist_free(&flag_vars);
	strlist_free(&rest);
}

static void flags_win_over_env(void)
{
	setenv("TINYRUN_CONN", "from-env", 1);
	setenv("TINYRUN_RETRIES", "7", 1);
	setenv("TINYRUN_SET", "env=1", 1);
	setenv("TINYRUN_VERBOSE", "true", 1);
	struct strlist rest = { 0 };
	CHECK_INT(parse(&rest, NULL, ARGS("--conn", "from-flag", "--retries=1", "-v", "flag=1", "--verbose=false")), 0);
	CHECK_STR(flag_conn, "from-flag");
	CHECK_INT(flag_retries, 1);
	CHECK(!flag_verbose);
	CHECK_INT(flag_vars.len, 1);
	CHECK_STR(flag_vars.items[0], "flag=1");
	strlist_free(&flag_vars);
}

static void env_file_fallback(void)
{
	const char *path = tt_path("pw");
	tt_write(path, "file-secret-1\n");
	setenv("TINYRUN_PASSWORD_FILE", path, 1);
	struct strlist rest = { 0 };
	CHECK_INT(parse(&rest, NULL, ARGS("x")), 0);
	CHECK_STR(flag_password, "file-secret-1");
	char *masked = redact_dup("pw file-secret-1");
	CHECK_STR(masked, "pw ***");
	free(masked);
	/* NAME wins over NAME_FILE. */
	free((char *)flag_password);
	setenv("TINYRUN_PASSWORD", "env-secret-2", 1);
	CHECK_INT(parse(&rest, NULL, ARGS("x")), 0);
	CHECK_STR(flag_password, "env-secret-2");
	strlist_free(&rest);
}

static void env_bad_value_names_variable(void)
{
	setenv("TINYRUN_RETRIES", "many", 1);
	struct strlist rest = { 0 };
	char *log;
	CHECK_INT(parse(&rest, &log, ARGS("x")), TR_EXIT_USAGE);
	CHECK_CONTAINS(log, "TINYRUN_RETRIES");
	free(log);
	strlist_free(&rest);
}

static void env_unreadable_file_is_usage_error(void)
{
	setenv("TINYRUN_PASSWORD_FILE", tt_path("missing"), 1);
	struct strlist rest = { 0 };
	char *log;
	CHECK_INT(parse(&rest, &log, ARGS("x")), TR_EXIT_USAGE);
	CHECK_CONTAINS(log, "TINYRUN_PASSWORD_FILE");
	free(log);
	strlist_free(&rest);
}

static void secret_flag_is_redacted(void)
{
	struct strlist rest = { 0 };
	char *log;
	CHECK_INT(parse(&rest, &log, ARGS("--password", "hunter2-long", "--bogus")), TR_EXIT_USAGE);
	free(log);
	CHECK_INT(parse(&rest, &log, ARGS("--bogus=hunter2-long")), TR_EXIT_USAGE);
	CHECK_NOT_CONTAINS(log, "hunter2-long");
	CHECK_CONTAINS(log, "--bogus=***");
	free(log);
}

static void help_returns_done(void)
{
	struct strlist rest = { 0 };
	struct tt_capture cap;
	tt_capture_start(&cap, 1);
	int rc = parse(&rest, NULL, ARGS("--help"));
	char *out = tt_capture_end(&cap);
	CHECK_INT(rc, CLI_DONE);
	CHECK_CONTAINS(out, "Usage: tool run [flags] FILE...");
	CHECK_CONTAINS(out, "--statement-timeout DURATION");
	CHECK_CONTAINS(out, "[env TINYRUN_STATEMENT_TIMEOUT]");
	CHECK_CONTAINS(out, "-v, --set NAME=VALUE");
	CHECK_CONTAINS(out, "(repeatable)");
	free(out);
	tt_capture_start(&cap, 1);
	CHECK_INT(parse(&rest, NULL, ARGS("-h")), CLI_DONE);
	free(tt_capture_end(&cap));
}

/* cli_main: subcommand dispatch, and the result line at the end. */
static int sub_ran;
static int sub_run(const struct cmd *cmd, int argc, char **argv)
{
	struct strlist rest = { 0 };
	int rc = cli_parse(cmd, argc, argv, &rest);
	sub_ran = (int)rest.len + 1;
	strlist_free(&rest);
	return rc;
}

static const struct opt root_opts[] = { CLI_GLOBAL_OPTS, { NULL, 0, 0, NULL, NULL, NULL, 0 } };
static const struct cmd sub_cmd = { "tool go", "[flags]", "goes", NULL, test_opts, NULL, sub_run };
static const struct cmd *const subs[] = { &sub_cmd, NULL };
static const struct cmd root_cmd = { "tool", "COMMAND", "a tool", NULL, root_opts, subs, NULL };

static int run_main(char **out, char **err, const char *const *args)
{
	char *argv[16];
	int argc = 0;
	argv[argc++] = (char *)"tool";
	while (*args)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	setenv("TINYRUN_XCOM_DIR", tt_path("no-such-dir"), 1);
	setenv("TINYRUN_TERMINATION_LOG", tt_path("no-such-log"), 1);
	struct tt_capture c1, c2;
	tt_capture_start(&c1, 1);
	tt_capture_start(&c2, 2);
	int rc = cli_main(&root_cmd, argc, argv);
	*err = tt_capture_end(&c2);
	*out = tt_capture_end(&c1);
	return rc;
}

static void main_dispatches_subcommand(void)
{
	char *out, *err;
	CHECK_INT(run_main(&out, &err, ARGS("--log-format", "json", "go", "--verbose", "f1", "f2")), 0);
	CHECK_INT(sub_ran, 3);
	CHECK(flag_verbose);
	CHECK_CONTAINS(out, "\"status\":\"success\"");
	free(out);
	free(err);
}

static void main_unknown_command(void)
{
	char *out, *err;
	CHECK_INT(run_main(&out, &err, ARGS("--log-format=json", "stop")), TR_EXIT_USAGE);
	CHECK_CONTAINS(err, "unknown command 'stop'");
	CHECK_CONTAINS(out, "\"exit_code\":2");
	CHECK_CONTAINS(out, "\"status\":\"usage_error\"");
	free(out);
	free(err);
	CHECK_INT(run_main(&out, &err, ARGS("--log-format=json")), TR_EXIT_USAGE);
	CHECK_CONTAINS(err, "missing command");
	free(out);
	free(err);
}

static void main_bad_global_value(void)
{
	char *out, *err;
	CHECK_INT(run_main(&out, &err, ARGS("--log-format=xml", "go")), TR_EXIT_USAGE);
	CHECK_CONTAINS(err, "--log-format must be json, text or auto");
	CHECK_INT(sub_ran, 0);
	free(out);
	free(err);
	CHECK_INT(run_main(&out, &err, ARGS("--log-level", "loud", "go")), TR_EXIT_USAGE);
	free(out);
	free(err);
}

static void main_version_and_help(void)
{
	char *out, *err;
	CHECK_INT(run_main(&out, &err, ARGS("--version")), 0);
	CHECK_CONTAINS(out, "tool ");
	CHECK_CONTAINS(out, "(git ");
	CHECK_CONTAINS(out, "libraries: ");
	CHECK_NOT_CONTAINS(out, "status");
	free(out);
	free(err);
	CHECK_INT(run_main(&out, &err, ARGS("--help")), 0);
	CHECK_CONTAINS(out, "Commands:");
	CHECK_CONTAINS(out, "go ");
	CHECK_NOT_CONTAINS(out, "status");
	free(out);
	free(err);
}

/* More options than the old fixed seen[64]: the last one given on the command line must count as
 * given (ASan caught the write past the array before). */
static void many_options(void)
{
	enum { MANY = 80 };
	static struct opt opts[MANY + 1];
	static char names[MANY][16];
	static const char *values[MANY];
	for (int i = 0; i < MANY; i++) {
		snprintf(names[i], sizeof names[i], "opt%d", i);
		opts[i] = (struct opt){ names[i], 0, OPT_STRING, &values[i], "V", "an option", 0 };
	}
	const struct cmd many = { "tool many", "", "many options", NULL, opts, NULL, NULL };
	char *argv[] = { (char *)"many", (char *)"--opt79", (char *)"cli", NULL };
	struct strlist rest = { 0 };
	setenv("TINYRUN_OPT79", "env", 1);
	CHECK_INT(cli_parse(&many, 3, argv, &rest), 0);
	CHECK_STR(values[MANY - 1], "cli");
	strlist_free(&rest);
}

/* A subcommand named with one word (no "runner " prefix) is listed and found. */
static int one_word_ran;
static int one_word_run(const struct cmd *cmd, int argc, char **argv)
{
	(void)cmd, (void)argc, (void)argv;
	one_word_ran = 1;
	return 0;
}

static void help_with_one_word_subcommand(void)
{
	static const struct cmd solo = { "solo", "", "one word", NULL, NULL, NULL, one_word_run };
	static const struct cmd *const solo_subs[] = { &solo, NULL };
	static const struct cmd root = { "tool", "COMMAND", "a tool", NULL, root_opts, solo_subs, NULL };
	struct tt_capture cap;
	char *help[] = { (char *)"tool", (char *)"--help", NULL };
	tt_capture_start(&cap, 1);
	CHECK_INT(cli_main(&root, 2, help), 0);
	char *out = tt_capture_end(&cap);
	CHECK_CONTAINS(out, "  solo ");
	free(out);
	char *argv[] = { (char *)"tool", (char *)"solo", NULL };
	tt_capture_start(&cap, 1);
	CHECK_INT(cli_main(&root, 2, argv), 0);
	free(tt_capture_end(&cap));
	CHECK_INT(one_word_ran, 1);
}

TT_MAIN(TT_CASE(many_options), TT_CASE(help_with_one_word_subcommand), TT_CASE(long_and_short_flags),
        TT_CASE(equals_and_attached_values), TT_CASE(double_dash_ends_flags), TT_CASE(single_dash_is_positional),
        TT_CASE(unknown_flag_is_usage_error), TT_CASE(missing_value_is_usage_error),
        TT_CASE(bad_values_are_usage_errors), TT_CASE(durations), TT_CASE(bools_from_flag_values),
        TT_CASE(env_fallback), TT_CASE(flags_win_over_env), TT_CASE(env_file_fallback),
        TT_CASE(env_bad_value_names_variable), TT_CASE(env_unreadable_file_is_usage_error),
        TT_CASE(secret_flag_is_redacted), TT_CASE(help_returns_done), TT_CASE(main_dispatches_subcommand),
        TT_CASE(main_unknown_command), TT_CASE(main_bad_global_value), TT_CASE(main_version_and_help))
