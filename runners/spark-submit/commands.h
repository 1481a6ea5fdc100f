/* commands: the spark-submit-runner subcommands (one file each). */
#ifndef SS_COMMANDS_H
#define SS_COMMANDS_H

#include "cli.h"

extern const struct cmd cmd_submit;

#endif
