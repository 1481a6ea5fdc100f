/* postgres-runner: SQL scripts, streamed queries, bulk COPY and a preflight for PostgreSQL,
 * under the tinyrun task contract (flags and env, Airflow connections, result line, exit codes). */
#include "cli.h"
#include "commands.h"

static const struct opt global_opts[] = { CLI_GLOBAL_OPTS, { 0 } };

static const struct cmd *const subcommands[] = { &cmd_run, &cmd_query, &cmd_copy, &cmd_check, NULL };

static const struct cmd root = {
	.name = "postgres-runner",
	.usage = "[--log-format json|text] [--workdir DIR] COMMAND [flags] [args]",
	.summary = "run SQL, stream query results and bulk-copy data for PostgreSQL, for Airflow tasks",
	.description = "Connection: --conn ID reads Airflow's AIRFLOW_CONN_<ID> (URI or JSON form), or --conn-file\n"
	               "PATH a mounted secret with the same text. The schema is the database; extras that are\n"
	               "libpq keywords (sslmode, sslrootcert, gssencmode, ...) pass through. Passwords never come\n"
	               "from the command line. Every flag --some-flag may also be set as TINYRUN_SOME_FLAG, or as\n"
	               "TINYRUN_SOME_FLAG_FILE naming a file that holds the value.\n"
	               "\n"
	               "Kerberos: KRB5CCNAME (default FILE:/krb5/cache/krb5cc when present), KRB5_CONFIG, or\n"
	               "--keytab with --principal. A missing or expired ticket is exit 3 before connecting.\n"
	               "\n"
	               "Output: logs on stderr (JSON lines unless stderr is a terminal); the result JSON is the\n"
	               "last line of stdout and, when /airflow/xcom exists, /airflow/xcom/return.json.\n",
	.opts = global_opts,
	.subcommands = subcommands,
};

int main(int argc, char **argv)
{
	return cli_main(&root, argc, argv);
}
