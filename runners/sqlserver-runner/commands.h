/* commands: the sqlserver-runner subcommands, one file each (cmd_*.c). */
#ifndef MS_COMMANDS_H
#define MS_COMMANDS_H

#include "cli.h"

extern const struct cmd cmd_run, cmd_query, cmd_copy, cmd_check;

#endif
