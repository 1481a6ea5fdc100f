/* sqlserver-runner: T-SQL scripts, streamed queries, bulk copy and a preflight for SQL Server, on
 * FreeTDS db-lib, under the tinyrun task contract (flags and env, Airflow connections, result
 * line, exit codes). */
#include "cli.h"
#include "commands.h"

static const struct opt global_opts[] = { CLI_GLOBAL_OPTS, { 0 } };

static const struct cmd *const subcommands[] = { &cmd_run, &cmd_query, &cmd_copy, &cmd_check, NULL };

static const struct cmd root = {
	.name = "sqlserver-runner",
	.usage = "[--log-format json|text] [--workdir DIR] COMMAND [flags] [args]",
	.summary = "run T-SQL scripts, stream query results and bulk-copy data for SQL Server, for Airflow tasks",
	.description = "Connection: --conn ID reads Airflow's AIRFLOW_CONN_<ID> (an mssql connection, URI or JSON\n"
	               "form), or --conn-file PATH a mounted secret with the same text. The schema is the database.\n"
	               "Extras: encrypt (off, optional, mandatory (default) or strict), trust_server_certificate,\n"
	               "spn (default MSSQLSvc/host:port) and app_name (default: the Airflow run identity).\n"
	               "TLS is verified against $SSL_CERT_FILE, else the image's CA bundle.\n"
	               "Passwords never come from the command line. Every flag --some-flag may also be set as\n"
	               "TINYRUN_SOME_FLAG, or as TINYRUN_SOME_FLAG_FILE naming a file that holds the value.\n"
	               "\n"
	               "Kerberos (a connection without a password): KRB5CCNAME (default FILE:/krb5/cache/krb5cc\n"
	               "when present), KRB5_CONFIG, or --keytab with --principal. A missing or expired ticket is\n"
	               "exit 3 before connecting.\n"
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
