/* cmd_render: `model-deployer render`, the DDL of the models for an empty database, offline. */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "commands.h"
#include "ddl.h"
#include "deploy.h"
#include "diff.h"
#include "exitcode.h"
#include "log.h"
#include "modelload.h"
#include "result.h"

static struct {
	const char *models;
	const char *engine;
} opts = { NULL, "postgres" };

static const struct opt render_opts[] = {
	{ "models", 0, OPT_STRING, &opts.models, "PATH", "the models: a folder of *.yml files, or one file", 0 },
	{ "engine", 0, OPT_STRING, &opts.engine, "ENGINE", "postgres (default) or mssql", 0 },
	{ 0 }
};

int load_models(const char *path, struct model_set *m)
{
	struct strlist errors = { 0 };
	if (!path)
		return result_fail(TR_EXIT_USAGE, "usage", "--models PATH is required (a folder of model files)");
	size_t n = model_load_all(path, m, &errors);
	if (n) {
		cJSON *list = cJSON_AddArrayToObject(result_object(), "errors");
		for (size_t i = 0; i < errors.len; i++) {
			log_error("model", "%s", errors.items[i]);
			cJSON_AddItemToArray(list, cJSON_CreateString(errors.items[i]));
		}
		result_fail(TR_EXIT_USAGE, "model", "%s%s", errors.items[0],
		            n > 1 ? " (and more: see the errors list)" : "");
	}
	strlist_free(&errors);
	return n ? TR_EXIT_USAGE : TR_EXIT_OK;
}

static int render_main(const struct cmd *cmd, int argc, char **argv)
{
	struct strlist args = { 0 };
	struct model_set m = { 0 };
	enum engine e = ENGINE_POSTGRES;
	int rc = cli_parse(cmd, argc, argv, &args);
	if (rc == TR_EXIT_OK && args.len)
		rc = result_fail(TR_EXIT_USAGE, "usage", "render takes no arguments; see '%s --help'", cmd->name);
	if (rc == TR_EXIT_OK && strcmp(opts.engine, "postgres") != 0 && strcmp(opts.engine, "mssql") != 0)
		rc = result_fail(TR_EXIT_USAGE, "usage", "--engine must be postgres or mssql, not '%s'", opts.engine);
	e = strcmp(opts.engine, "mssql") == 0 ? ENGINE_MSSQL : ENGINE_POSTGRES;
	if (rc == TR_EXIT_OK)
		rc = load_models(opts.models, &m);
	if (rc == TR_EXIT_OK) {
		struct catalog empty;
		struct plan p;
		deploy_empty_catalog(e, &empty);
		diff_models(&m, &empty, e, &p);
		cJSON *changes = deploy_describe(e, &p);
		struct buf out = BUF_INIT;
		buf_printf(&out, "-- model-deployer render --engine %s: %zu tables\n", engine_name(e), m.ntables);
		for (const cJSON *c = changes->child; c; c = c->next)
			for (const cJSON *s = cJSON_GetObjectItem(c, "sql")->child; s; s = s->next)
				buf_printf(&out, "%s%s\n", s->valuestring, ddl_terminator(e));
		fputs(buf_str(&out), stdout);
		cJSON_AddStringToObject(result_object(), "engine", engine_name(e));
		cJSON_AddNumberToObject(result_object(), "tables", (double)m.ntables);
		cJSON_AddNumberToObject(result_object(), "changes", (double)p.n);
		cJSON_Delete(changes);
		buf_free(&out);
		plan_free(&p);
		catalog_free(&empty);
	}
	model_free(&m);
	strlist_free(&args);
	return rc;
}

const struct cmd cmd_render = {
	.name = "model-deployer render",
	.usage = "--models PATH [--engine postgres|mssql]",
	.summary = "print the DDL of the models for an empty database (no connection)",
	.description = "Prints the statements that create the models' schemas, tables, keys, indexes, comments,\n"
	               "the mixins' triggers and history on an empty database of the engine: the same\n"
	               "statements `apply` runs there. For review in pull requests. Exit 2 on a bad model.\n",
	.opts = render_opts,
	.run = render_main,
};
