/* commands: the model-deployer subcommands (cmd_render.c, cmd_deploy.c), and loading the models
 * the way every one of them does. */
#ifndef MD_COMMANDS_H
#define MD_COMMANDS_H

#include "cli.h"
#include "model.h"

extern const struct cmd cmd_render, cmd_plan, cmd_apply, cmd_drift;

/* Load and validate --models: on error log every problem, list them in the result ("errors")
 * and return TR_EXIT_USAGE. */
int load_models(const char *path, struct model_set *m);

#endif
