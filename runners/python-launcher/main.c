/* python-launcher: run a team's Python code from a verified, cached code snapshot, as PID 1 of
 * the team's own runtime image, under the tinyrun task contract. */
#include "cli.h"
#include "commands.h"

static const struct opt global_opts[] = { CLI_GLOBAL_OPTS, { 0 } };

static const struct cmd *const subcommands[] = { &cmd_run, &cmd_fetch, &cmd_gc, NULL };

static const struct cmd root = {
	.name = "python-launcher",
	.usage = "[--log-format json|text] [--workdir DIR] COMMAND [flags] [args]",
	.summary = "fetch, verify and run Python code snapshots as PID 1, for Airflow tasks",
	.description = "Copy the binary into your runtime image and make it the ENTRYPOINT:\n"
	               "  COPY --from=tinyrun/python-launcher:VERSION /usr/local/bin/python-launcher /usr/local/bin/\n"
	               "  ENTRYPOINT [\"/usr/local/bin/python-launcher\"]\n"
	               "\n"
	               "Every flag --some-flag may also be set as TINYRUN_SOME_FLAG, or as TINYRUN_SOME_FLAG_FILE\n"
	               "naming a file that holds the value.\n"
	               "\n"
	               "Output: the program's stdout and stderr pass through; the launcher's logs are JSON lines on\n"
	               "stderr; the result JSON is the last line of stdout and, when /airflow/xcom exists,\n"
	               "/airflow/xcom/return.json.\n"
	               "\n"
	               "Exit codes: the program's own once it started (0, 1, 99 skip, ...; 128+N when signal N\n"
	               "killed it); before that 2 usage, bad or mismatching snapshot, 3 download refused (401/403),\n"
	               "75 download failed for now (retry).\n",
	.opts = global_opts,
	.subcommands = subcommands,
};

int main(int argc, char **argv)
{
	return cli_main(&root, argc, argv);
}
