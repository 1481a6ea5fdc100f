/* runresults: the summary of a dbt run for the result line, from target/run_results.json (or
 * sources.json, which `dbt source freshness` writes in its place). A pure parser of outside
 * input: unit-tested and fuzzed.
 *
 * The summary is a JSON object:
 *   dbt_version, invocation_id   from metadata
 *   elapsed_s                    the run's elapsed_time
 *   nodes                        how many results
 *   counts                       {success, error, fail, warn, skipped} always, plus any other
 *                                status by its own name; a test's "pass" counts as success and
 *                                freshness's "runtime error" as error
 *   failing_nodes                [{unique_id, message}] for error and fail, message being the
 *                                first line (at most 300 bytes), the first 20 of them
 *   failing_nodes_omitted        how many more there were (only when there were more) */
#ifndef DR_RUNRESULTS_H
#define DR_RUNRESULTS_H

#include <stddef.h>

#include <cJSON.h>

#define RUNRESULTS_MAX_FAILING 20
#define RUNRESULTS_MESSAGE_MAX 300

/* Returns the summary (the caller owns it), or NULL with err saying what is wrong. */
cJSON *runresults_summary(const char *text, size_t len, char *err, size_t errlen);

#endif
