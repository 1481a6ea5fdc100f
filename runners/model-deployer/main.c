/* model-deployer: "define once, deploy many": table models in YAML (portable types, keys,
 * indexes, platform mixins) rendered, planned, applied and checked for drift on many targets,
 * under the tinyrun task contract. */
#include "cli.h"
#include "commands.h"

static const struct opt global_opts[] = { CLI_GLOBAL_OPTS, { 0 } };

static const struct cmd *const subcommands[] = { &cmd_render, &cmd_plan, &cmd_apply, &cmd_drift, NULL };

static const struct cmd root = {
	.name = "model-deployer",
	.usage = "[--log-format json|text] [--workdir DIR] COMMAND [flags]",
	.summary = "deploy table models to many PostgreSQL and SQL Server databases: render, plan, apply, drift",
	.description = "Models: YAML files (one table, or tables: [...]) with schema, table, comment, columns\n"
	               "(name, type, nullable, default, comment), primary_key, unique, indexes, foreign_keys and\n"
	               "mixins (bronze, transactional, reference). Types: int, bigint, smallint, decimal(p,s),\n"
	               "text, varchar(n), bool, date, timestamp, timestamptz, uuid, json, bytes. A bad model is\n"
	               "reported as file:line: model: field: message, exit 2, before any target is touched.\n"
	               "\n"
	               "Targets: Airflow connections (AIRFLOW_CONN_<ID>); passwords never come from argv.\n"
	               "Every flag --some-flag may also be set as TINYRUN_SOME_FLAG or TINYRUN_SOME_FLAG_FILE.\n"
	               "\n"
	               "Output: logs on stderr (JSON lines unless stderr is a terminal); the DDL on stdout; the\n"
	               "result JSON is the last line of stdout and, when /airflow/xcom exists,\n"
	               "/airflow/xcom/return.json.\n",
	.opts = global_opts,
	.subcommands = subcommands,
};

int main(int argc, char **argv)
{
	return cli_main(&root, argc, argv);
}
