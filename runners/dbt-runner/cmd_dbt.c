/* cmd_dbt: every dbt command dbt-runner runs. The connection becomes profiles.yml in a private
 * folder under the workdir (with dbt's target/ and logs/), dbt runs there under common/child, its
 * results become the result line, and the folder is removed. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "child.h"
#include "commands.h"
#include "conn.h"
#include "exitcode.h"
#include "fsutil.h"
#include "log.h"
#include "dbtprofile.h"
#include "result.h"
#include "runid.h"
#include "runresults.h"

extern char **environ;

#define RESULTS_MAX          ((size_t)512 * 1024 * 1024)
#define APPLICATION_NAME_MAX 63

/* Which of our flags a dbt command takes, and the results file it writes. */
enum { TAKES_SELECT = 1, TAKES_FULL_REFRESH = 2, TAKES_THREADS = 4 };
struct dbt_command {
	const char *words;
	unsigned takes;
	const char *results;
};

static const struct dbt_command dbt_commands[] = {
	{ "build", TAKES_SELECT | TAKES_FULL_REFRESH | TAKES_THREADS, "run_results.json" },
	{ "run", TAKES_SELECT | TAKES_FULL_REFRESH | TAKES_THREADS, "run_results.json" },
	{ "test", TAKES_SELECT | TAKES_THREADS, "run_results.json" },
	{ "seed", TAKES_SELECT | TAKES_FULL_REFRESH | TAKES_THREADS, "run_results.json" },
	{ "snapshot", TAKES_SELECT | TAKES_THREADS, "run_results.json" },
	{ "source freshness", TAKES_SELECT | TAKES_THREADS, "sources.json" },
	{ "compile", TAKES_SELECT | TAKES_FULL_REFRESH | TAKES_THREADS, "run_results.json" },
	{ "docs generate", TAKES_SELECT | TAKES_THREADS, "run_results.json" },
	{ "debug", 0, NULL },
};

/* Copied by --artifacts when dbt wrote them. */
static const char *const artifact_files[] = { "manifest.json", "run_results.json", "sources.json", "catalog.json" };

static struct {
	const char *conn, *conn_file, *target, *profile_name, *schema, *project_dir, *vars, *dbt, *artifacts;
	struct strlist select, exclude;
	bool full_refresh;
	long threads, timeout_ms, grace_ms;
} flags = { .target = "dev", .profile_name = "tinyrun", .project_dir = ".", .dbt = "dbt", .grace_ms = 8000 };

static const struct dbt_command *command_of(const struct cmd *cmd)
{
	const char *words = strchr(cmd->name, ' ') + 1; /* after "dbt-runner " */
	for (size_t i = 0; i < sizeof dbt_commands / sizeof *dbt_commands; i++)
		if (strcmp(dbt_commands[i].words, words) == 0)
			return &dbt_commands[i];
	abort(); /* every cmd below has its row */
}

static int refuse_flag(const struct dbt_command *dc, const char *flag)
{
	return result_fail(TR_EXIT_USAGE, "usage", "%s does not apply to dbt %s", flag, dc->words);
}

static int check_flags(const struct dbt_command *dc)
{
	if (!(dc->takes & TAKES_SELECT) && flags.select.len)
		return refuse_flag(dc, "--select");
	if (!(dc->takes & TAKES_SELECT) && flags.exclude.len)
		return refuse_flag(dc, "--exclude");
	if (!(dc->takes & TAKES_FULL_REFRESH) && flags.full_refresh)
		return refuse_flag(dc, "--full-refresh");
	if (!(dc->takes & TAKES_THREADS) && flags.threads)
		return refuse_flag(dc, "--threads");
	if (flags.threads < 0 || flags.threads > 1024)
		return result_fail(TR_EXIT_USAGE, "usage", "--threads must be between 1 and 1024");
	if (!flags.conn && !flags.conn_file)
		return result_fail(TR_EXIT_USAGE, "usage",
		                   "--conn ID (or --conn-file PATH) is required: dbt's profile "
		                   "is written from that Airflow connection");
	if (flags.artifacts && access(flags.artifacts, W_OK | X_OK) < 0)
		return result_fail(TR_EXIT_USAGE, "usage", "--artifacts %s: %s (it must be a writable folder)",
		                   flags.artifacts, strerror(errno));
	return TR_EXIT_OK;
}

/* The project folder, absolute (dbt runs with the work folder's paths, not ours). */
static int find_project(char **out)
{
	struct buf yml = BUF_INIT;
	buf_printf(&yml, "%s/dbt_project.yml", flags.project_dir);
	errno = 0;
	struct stat sb;
	int rc = TR_EXIT_OK;
	if (stat(buf_str(&yml), &sb) < 0 || !S_ISREG(sb.st_mode))
		rc = result_fail(TR_EXIT_USAGE, "project", "no dbt project at %s (%s: %s); set --project-dir",
		                 flags.project_dir, buf_str(&yml), errno ? strerror(errno) : "not a file");
	else if (!(*out = realpath(flags.project_dir, NULL)))
		rc = result_fail(TR_EXIT_USAGE, "project", "--project-dir %s: %s", flags.project_dir, strerror(errno));
	buf_free(&yml);
	return rc;
}

static int load_profile(struct profile *prof)
{
	struct conn c;
	char err[512];
	memset(&c, 0, sizeof c);
	int rc = conn_load(flags.conn, flags.conn_file, &c, err, sizeof err);
	if (rc) {
		conn_free(&c);
		result_fail(rc, "connection", "%s", err);
		return rc;
	}
	char *app = runid_application_name("dbt-runner", APPLICATION_NAME_MAX);
	struct profile_opts po = { .profile_name = flags.profile_name,
		                   .target = flags.target,
		                   .schema = flags.schema,
		                   .threads = flags.threads,
		                   .application_name = app };
	rc = profile_build(&c, &po, prof, err, sizeof err);
	free(app);
	if (rc)
		result_fail(rc, "connection", "%s: %s", flags.conn ? flags.conn : flags.conn_file, err);
	else
		cJSON_AddStringToObject(result_object(), "adapter", prof->adapter);
	conn_free(&c);
	return rc;
}

/* <workdir>/dbt-runner-XXXXXX (0700) holding profiles.yml (0600); dbt's target/ and logs/ go
 * there too, so each run starts without a stale run_results.json and a read-only project works. */
static int make_workdir(struct buf *work, const struct profile *prof)
{
	buf_printf(work, "%s/dbt-runner-XXXXXX", cli_globals.workdir ? cli_globals.workdir : "/tmp");
	if (!mkdtemp(work->data))
		return result_fail(TR_EXIT_USAGE, "workdir", "cannot create a folder in the workdir %s: %s",
		                   cli_globals.workdir ? cli_globals.workdir : "/tmp", strerror(errno));
	struct buf path = BUF_INIT;
	buf_printf(&path, "%s/profiles.yml", work->data);
	int e = fs_write_atomic(buf_str(&path), prof->yaml, strlen(prof->yaml), 0600, (gid_t)-1);
	buf_free(&path);
	if (e)
		return result_fail(TR_EXIT_FAILED, "workdir", "cannot write profiles.yml: %s", strerror(e));
	return TR_EXIT_OK;
}

static void push_env(struct strlist *env, const char *name, const char *dir, const char *sub)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s=%s%s", name, dir, sub);
	strlist_push(env, buf_str(&b));
	buf_free(&b);
}

static bool named(const char *var, const char *name)
{
	size_t n = strlen(name);
	return strncmp(var, name, n) == 0 && var[n] == '=';
}

/* Ours minus TINYRUN_* settings and Airflow connections (dbt gets the profile, not the URI with
 * its password), plus the profile's secrets and the work folder's paths. */
static char **dbt_env(const char *work, const struct profile *prof)
{
	struct strlist env = { 0 };
	bool stats_set = false;
	for (char **e = environ; *e; e++) {
		if (!runid_passes_to_child(*e) || strncmp(*e, "AIRFLOW_CONN_", 13) == 0 ||
		    named(*e, "DBT_TARGET_PATH") || named(*e, "DBT_LOG_PATH") ||
		    strncmp(*e, "DBT_ENV_SECRET_", 15) == 0)
			continue;
		stats_set = stats_set || named(*e, "DBT_SEND_ANONYMOUS_USAGE_STATS");
		strlist_push(&env, *e);
	}
	for (size_t i = 0; i < prof->env.len; i++)
		strlist_push(&env, prof->env.items[i]);
	push_env(&env, "DBT_TARGET_PATH", work, "/target");
	push_env(&env, "DBT_LOG_PATH", work, "/logs");
	if (!stats_set) /* no calls home from a platform task unless the image asks for them */
		strlist_push(&env, "DBT_SEND_ANONYMOUS_USAGE_STATS=false");
	strlist_push(&env, "");
	free(env.items[env.len - 1]);
	env.items[env.len - 1] = NULL; /* execve wants a NULL-terminated array */
	return env.items;
}

static void push_flag(struct strlist *argv, const char *flag, const char *value)
{
	strlist_push(argv, flag);
	strlist_push(argv, value);
}

static struct strlist dbt_argv(const struct dbt_command *dc, const char *project, const char *work,
                               const struct strlist *extra)
{
	struct strlist argv = { 0 };
	strlist_push(&argv, flags.dbt);
	char *words = xstrdup(dc->words), *save = NULL;
	for (char *w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save))
		strlist_push(&argv, w);
	free(words);
	push_flag(&argv, "--log-format", "json");
	push_flag(&argv, "--profiles-dir", work);
	push_flag(&argv, "--project-dir", project);
	push_flag(&argv, "--profile", flags.profile_name);
	push_flag(&argv, "--target", flags.target);
	for (size_t i = 0; i < flags.select.len; i++)
		push_flag(&argv, "--select", flags.select.items[i]);
	for (size_t i = 0; i < flags.exclude.len; i++)
		push_flag(&argv, "--exclude", flags.exclude.items[i]);
	if (flags.vars)
		push_flag(&argv, "--vars", flags.vars);
	if (flags.full_refresh)
		strlist_push(&argv, "--full-refresh");
	if (flags.threads) {
		char n[24];
		snprintf(n, sizeof n, "%ld", flags.threads);
		push_flag(&argv, "--threads", n);
	}
	for (size_t i = 0; i < extra->len; i++)
		strlist_push(&argv, extra->items[i]);
	strlist_push(&argv, "");
	free(argv.items[argv.len - 1]);
	argv.items[argv.len - 1] = NULL;
	return argv;
}

/* dbt's exit status as ours: its own code, 128+N when we were stopped by signal N. */
static int report_dbt(const struct child_status *st)
{
	cJSON_AddNumberToObject(result_object(), "dbt_exit_code", st->exit_code);
	if (st->timed_out)
		return result_fail(TR_EXIT_FAILED, "timeout", "dbt ran longer than --timeout (%ld ms) and was %s",
		                   flags.timeout_ms, st->killed ? "killed after the grace" : "stopped");
	if (st->stop_signal) {
		log_info("stopped", "signal %d: dbt got SIGINT, cancelled its queries and %s", st->stop_signal,
		         st->killed ? "was killed after the grace" : "ended");
		return TR_EXIT_SIGNAL_BASE + st->stop_signal;
	}
	if (st->term_signal)
		return result_fail(st->exit_code, "dbt", "dbt was killed by signal %d", st->term_signal);
	if (st->exit_code == TR_EXIT_FAILED)
		return result_fail(TR_EXIT_FAILED, "dbt", "dbt reported failed or errored nodes (see failing_nodes)");
	if (st->exit_code == TR_EXIT_USAGE)
		return result_fail(TR_EXIT_USAGE, "dbt",
		                   "dbt stopped with an error before running nodes (see its log)");
	if (st->exit_code != TR_EXIT_OK)
		return result_fail(st->exit_code, "dbt", "dbt ended with exit code %d (see its log)", st->exit_code);
	return TR_EXIT_OK;
}

static void summarise(const struct dbt_command *dc, const char *work)
{
	if (!dc->results)
		return;
	struct buf path = BUF_INIT;
	buf_printf(&path, "%s/target/%s", work, dc->results);
	char *text = NULL, err[200];
	size_t len = 0;
	int e = fs_read_file(buf_str(&path), RESULTS_MAX, &text, &len);
	cJSON *summary = e ? NULL : runresults_summary(text, len, err, sizeof err);
	if (e && e != ENOENT)
		log_warn("results", "cannot read %s: %s", dc->results, strerror(e));
	else if (!e && !summary)
		log_warn("results", "dbt's %s cannot be summarised: %s", dc->results, err);
	else if (e == ENOENT)
		log_info("results", "dbt wrote no %s", dc->results);
	cJSON *r = result_object();
	while (summary && summary->child) {
		cJSON *item = cJSON_DetachItemViaPointer(summary, summary->child);
		cJSON_AddItemToObject(r, item->string, item);
	}
	cJSON_Delete(summary);
	free(text);
	buf_free(&path);
}

static int copy_artifacts(const char *work, int rc)
{
	if (!flags.artifacts)
		return rc;
	cJSON *copied = cJSON_AddArrayToObject(result_object(), "artifacts");
	for (size_t i = 0; i < sizeof artifact_files / sizeof *artifact_files; i++) {
		struct buf src = BUF_INIT, dst = BUF_INIT;
		buf_printf(&src, "%s/target/%s", work, artifact_files[i]);
		buf_printf(&dst, "%s/%s", flags.artifacts, artifact_files[i]);
		int e = access(buf_str(&src), F_OK) < 0 ? 0 : fs_copy_atomic(buf_str(&src), buf_str(&dst), 0644);
		if (e && rc == TR_EXIT_OK)
			rc = result_fail(TR_EXIT_FAILED, "artifacts", "cannot copy %s to %s: %s", artifact_files[i],
			                 flags.artifacts, strerror(e));
		else if (!e && access(buf_str(&src), F_OK) == 0)
			cJSON_AddItemToArray(copied, cJSON_CreateString(artifact_files[i]));
		buf_free(&src);
		buf_free(&dst);
	}
	return rc;
}

static int run_dbt(const struct dbt_command *dc, const char *project, const char *work, const struct profile *prof,
                   const struct strlist *extra)
{
	struct strlist argv = dbt_argv(dc, project, work, extra);
	char **env = dbt_env(work, prof);
	struct child_opts co = { .timeout_ms = flags.timeout_ms,
		                 .grace_ms = flags.grace_ms,
		                 .envp = env,
		                 .term_as = SIGINT,
		                 .stdout_to = 2 };
	struct child_status st;
	char err[300];
	log_info("start", "dbt %s in %s (target %s)", dc->words, project, flags.target);
	int rc = child_run(flags.dbt, argv.items, &co, &st, err, sizeof err);
	if (rc < 0)
		rc = result_fail(TR_EXIT_USAGE, "start", "%s (is dbt on PATH, or --dbt right?)", err);
	else {
		rc = report_dbt(&st);
		summarise(dc, work);
		rc = copy_artifacts(work, rc);
	}
	for (char **e = env; *e; e++) {
		memset(*e, 0, strlen(*e)); /* the secrets among them */
		free(*e);
	}
	free(env);
	argv.len--; /* the NULL terminator is no string */
	strlist_free(&argv);
	return rc;
}

static int run_main(const struct cmd *cmd, int argc, char **argv)
{
	const struct dbt_command *dc = command_of(cmd);
	struct strlist extra = { 0 };
	struct profile prof;
	memset(&prof, 0, sizeof prof);
	struct buf work = BUF_INIT;
	char *project = NULL;
	cJSON_AddStringToObject(result_object(), "command", dc->words);
	int rc = cli_parse(cmd, argc, argv, &extra);
	if (rc == TR_EXIT_OK)
		rc = check_flags(dc);
	if (rc == TR_EXIT_OK)
		rc = find_project(&project);
	if (rc == TR_EXIT_OK)
		rc = load_profile(&prof);
	if (rc == TR_EXIT_OK)
		rc = make_workdir(&work, &prof);
	if (rc == TR_EXIT_OK)
		rc = run_dbt(dc, project, work.data, &prof, &extra);
	if (work.len) {
		int e = fs_remove_tree(work.data);
		if (e)
			log_warn("workdir", "cannot remove %s: %s", work.data, strerror(e));
	}
	buf_free(&work);
	profile_free(&prof);
	free(project);
	strlist_free(&extra);
	return rc;
}

/* clang-format off */
static const struct opt dbt_opts[] = {
	{ "conn", 0, OPT_STRING, &flags.conn, "ID", "the Airflow connection (AIRFLOW_CONN_<ID>): postgres or mssql", 0 },
	{ "conn-file", 0, OPT_STRING, &flags.conn_file, "PATH", "a file holding the connection (URI or JSON)", 0 },
	{ "target", 0, OPT_STRING, &flags.target, "NAME", "the profile's output and dbt --target (default dev)", 0 },
	{ "profile-name", 0, OPT_STRING, &flags.profile_name, "NAME",
	  "the profile's name, passed as dbt --profile (default tinyrun)", 0 },
	{ "schema", 0, OPT_STRING, &flags.schema, "NAME",
	  "the target schema (default: the connection's extra schema, else public / dbo)", 0 },
	{ "project-dir", 0, OPT_STRING, &flags.project_dir, "DIR", "the dbt project (default: the current folder)", 0 },
	{ "select", 's', OPT_LIST, &flags.select, "SELECTOR", "dbt --select", 0 },
	{ "exclude", 0, OPT_LIST, &flags.exclude, "SELECTOR", "dbt --exclude", 0 },
	{ "vars", 0, OPT_STRING, &flags.vars, "YAML", "dbt --vars, e.g. '{\"day\": \"2026-01-31\"}'", 0 },
	{ "full-refresh", 0, OPT_BOOL, &flags.full_refresh, NULL, "dbt --full-refresh (build, run, seed, compile)", 0 },
	{ "threads", 0, OPT_INT, &flags.threads, "N", "dbt --threads (default: the profile's, 1)", 0 },
	{ "artifacts", 0, OPT_STRING, &flags.artifacts, "DIR",
	  "copy manifest.json and run_results.json (sources.json, catalog.json) there, atomically", 0 },
	{ "dbt", 0, OPT_STRING, &flags.dbt, "PATH", "the dbt executable (default dbt from PATH)", 0 },
	{ "timeout", 0, OPT_DURATION, &flags.timeout_ms, "DURATION", "stop dbt after this long (0 = none); exit 1", 0 },
	{ "grace", 0, OPT_DURATION, &flags.grace_ms, "DURATION",
	  "after SIGTERM or the timeout, how long dbt may cancel its queries before SIGKILL (default 8s)", 0 },
	{ 0 }
};

#define DBT_MANUAL                                                                                       \
	"Writes profiles.yml from the Airflow connection into a private folder (0700) under --workdir;\n" \
	"the password is not in it: the file says {{ env_var('DBT_ENV_SECRET_PASSWORD') }} and the value\n" \
	"reaches dbt's environment only (dbt hides DBT_ENV_SECRET_* values from its logs). postgres:\n"   \
	"host, port, login, schema (the database) and the extras dbt-postgres knows (sslmode, sslcert,\n"  \
	"sslkey, sslrootcert, connect_timeout, keepalives_idle, retries, role, search_path,\n"              \
	"application_name). mssql: dbt-sqlserver's driver, authentication, windows_login, encrypt,\n"      \
	"trust_cert, ...; Kerberos with authentication=ActiveDirectoryIntegrated or windows_login=true\n"   \
	"(the ticket from KRB5CCNAME). The target schema: --schema, else the extra schema.\n"               \
	"\n"                                                                                               \
	"dbt runs with --log-format json (its lines go to stderr as they come), its target/ and logs/\n"   \
	"in that folder; arguments after -- go to dbt as they are. The result line has counts by status\n" \
	"(success, error, fail, warn, skipped), elapsed_s, dbt_version, invocation_id and the failing\n"    \
	"nodes (unique_id and the first line of the message, up to 20).\n"                                 \
	"\n"                                                                                               \
	"Exit codes: dbt's (0 success, 1 failed or errored nodes, 2 an error before nodes ran); 143\n"     \
	"after SIGTERM, once dbt has cancelled its queries (it gets SIGINT); 2 for a bad flag, an\n"        \
	"unknown connection type or a missing project; 1 for --timeout.\n"

#define DBT_CMD(var, words, what)                                                                        \
	const struct cmd var = {                                                                           \
		.name = "dbt-runner " words,                                                               \
		.usage = "--conn ID [flags] [-- DBT-ARGS...]",                                              \
		.summary = (what),                                                                           \
		.description = DBT_MANUAL,                                                                 \
		.opts = dbt_opts,                                                                          \
		.run = run_main,                                                                           \
	}

DBT_CMD(cmd_build, "build", "dbt build: run, test, seed and snapshot the selected nodes in order");
DBT_CMD(cmd_run, "run", "dbt run: build the selected models");
DBT_CMD(cmd_test, "test", "dbt test: run the selected data tests");
DBT_CMD(cmd_seed, "seed", "dbt seed: load the seed CSV files");
DBT_CMD(cmd_snapshot, "snapshot", "dbt snapshot: record changes of the snapshotted tables");
DBT_CMD(cmd_compile, "compile", "dbt compile: render the selected nodes' SQL");
DBT_CMD(cmd_debug, "debug", "dbt debug: check the project and the connection");
static DBT_CMD(cmd_freshness, "source freshness", "dbt source freshness: check the sources' load times");
static DBT_CMD(cmd_generate, "docs generate", "dbt docs generate: write the catalog for dbt's docs site");

static const struct cmd *const source_commands[] = { &cmd_freshness, NULL };
static const struct cmd *const docs_commands[] = { &cmd_generate, NULL };
static const struct opt no_opts[] = { { 0 } };

const struct cmd cmd_source = {
	.name = "dbt-runner source", .usage = "freshness --conn ID [flags]", .summary = "dbt source freshness",
	.opts = no_opts, .subcommands = source_commands, .run = cli_run_group,
};

const struct cmd cmd_docs = {
	.name = "dbt-runner docs", .usage = "generate --conn ID [flags]", .summary = "dbt docs generate",
	.opts = no_opts, .subcommands = docs_commands, .run = cli_run_group,
};
/* clang-format on */
