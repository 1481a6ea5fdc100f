/* dbt-runner: run dbt in a team's runtime image under the tinyrun task contract: profiles.yml from
 * an Airflow connection (secrets in dbt's environment only), dbt's exit codes, a SIGTERM that
 * cancels dbt's queries, and a result line summarising run_results.json. */
#include "cli.h"
#include "commands.h"

static const struct opt global_opts[] = { CLI_GLOBAL_OPTS, { 0 } };

static const struct cmd *const subcommands[] = { &cmd_build,  &cmd_run,     &cmd_test, &cmd_seed,  &cmd_snapshot,
	                                         &cmd_source, &cmd_compile, &cmd_docs, &cmd_debug, NULL };

static const struct cmd root = {
	.name = "dbt-runner",
	.usage = "[--log-format json|text] [--workdir DIR] COMMAND [flags] [-- DBT-ARGS...]",
	.summary = "run dbt with a profile from an Airflow connection, for Airflow tasks",
	.description = "Copy the binary into your dbt runtime image and make it the ENTRYPOINT:\n"
	               "  COPY --from=tinyrun/dbt-runner:VERSION /usr/local/bin/dbt-runner /usr/local/bin/\n"
	               "  ENTRYPOINT [\"/usr/local/bin/dbt-runner\"]\n"
	               "\n"
	               "Every flag --some-flag may also be set as TINYRUN_SOME_FLAG, or as TINYRUN_SOME_FLAG_FILE\n"
	               "naming a file that holds the value.\n"
	               "\n"
	               "Output: dbt's JSON log lines go to stderr as they come, with dbt-runner's own; the result\n"
	               "JSON is the last line of stdout and, when /airflow/xcom exists, /airflow/xcom/return.json.\n"
	               "\n"
	               "Exit codes: dbt's own once it started (0 success, 1 failed or errored nodes, 2 an error\n"
	               "before nodes ran); 143 after SIGTERM (dbt gets SIGINT and cancels its queries first);\n"
	               "2 for a bad flag, connection or project folder.\n",
	.opts = global_opts,
	.subcommands = subcommands,
};

int main(int argc, char **argv)
{
	return cli_main(&root, argc, argv);
}
