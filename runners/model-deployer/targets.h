/* targets: the connections a deploy goes to (--targets ID,ID and/or a targets file), and running
 * one job per target in parallel.
 *
 * Each target runs in a process of its own (fork), at most --parallel at a time. Processes, not
 * threads: the task contract's state (the connection flags, the result, the stop signal and the
 * libpq cancel deadline, a Kerberos MEMORY: cache) is per process by design, and a target that
 * crashes or hangs cannot take the others with it. A stop signal is forwarded to every running
 * target, which cancels its server work and rolls back; targets not started yet are reported so. */
#ifndef MD_TARGETS_H
#define MD_TARGETS_H

#include <cJSON.h>

#include "strlist.h"

/* Collect the ids of list (comma-separated) and of file (one per line, # comments), each once.
 * Returns TR_EXIT_OK or TR_EXIT_USAGE (reported). */
int targets_collect(const char *list, const char *file, struct strlist *out);

/* One target's job, in its own process: fills out (the target's result object) and returns its
 * exit code. */
typedef int (*target_job)(const char *id, void *ctx, cJSON *out);

/* Run job for every id, parallel at a time; append each target's result (with "target",
 * "status", "exit_code") to results in the order of ids. Returns the overall exit code: 0 when
 * all succeeded, 75 when every failure was temporary, 128+N after a stop signal, else 1. */
int targets_run(const struct strlist *ids, long parallel, target_job job, void *ctx, cJSON *results);

#endif
