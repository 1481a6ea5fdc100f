/* spark-submit-runner: run a Spark job from a job spec with spark-submit, in a team's Spark image,
 * under the tinyrun task contract, and report the driver's real exit status. */
#include "cli.h"
#include "commands.h"

static const struct opt global_opts[] = { CLI_GLOBAL_OPTS, { 0 } };

static const struct cmd *const subcommands[] = { &cmd_submit, NULL };

static const struct cmd root = {
	.name = "spark-submit-runner",
	.usage = "[--log-format json|text] [--workdir DIR] COMMAND [flags] [args]",
	.summary = "build and run a spark-submit command line from a job spec; report the driver's real exit",
	.description = "Copy the binary into your Spark image and make it the ENTRYPOINT:\n"
	               "  COPY --from=tinyrun/spark-submit:VERSION /usr/local/bin/spark-submit-runner /usr/local/bin/\n"
	               "  ENTRYPOINT [\"/usr/local/bin/spark-submit-runner\"]\n"
	               "\n"
	               "Every flag --some-flag may also be set as TINYRUN_SOME_FLAG, or as TINYRUN_SOME_FLAG_FILE\n"
	               "naming a file that holds the value.\n"
	               "\n"
	               "Output: spark-submit's stdout and stderr pass through; the runner's logs are JSON lines on\n"
	               "stderr; the result JSON is the last line of stdout and, when /airflow/xcom exists,\n"
	               "/airflow/xcom/return.json.\n"
	               "\n"
	               "Exit codes: the driver's own once spark-submit started (never 0 when the driver failed;\n"
	               "128+N when signal N stopped it); 2 for a bad job spec, connection or policy.\n",
	.opts = global_opts,
	.subcommands = subcommands,
};

int main(int argc, char **argv)
{
	return cli_main(&root, argc, argv);
}
