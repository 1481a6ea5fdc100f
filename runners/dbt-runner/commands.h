/* commands: the dbt commands dbt-runner runs (cmd_dbt.c): one table of flags for all of them. */
#ifndef DR_COMMANDS_H
#define DR_COMMANDS_H

#include "cli.h"

extern const struct cmd cmd_build, cmd_run, cmd_test, cmd_seed, cmd_snapshot, cmd_source, cmd_compile, cmd_docs,
        cmd_debug;

#endif
