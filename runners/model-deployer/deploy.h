/* deploy: one target's plan, apply or drift: read its catalog, diff against the models, decide
 * what is destructive (running the data checks), and apply in one transaction. Also the plan's
 * description in the result JSON and as a script. */
#ifndef MD_DEPLOY_H
#define MD_DEPLOY_H

#include <stdbool.h>

#include <cJSON.h>

#include "diff.h"
#include "model.h"

enum deploy_mode { MODE_PLAN, MODE_APPLY, MODE_DRIFT };

struct deploy {
	enum deploy_mode mode;
	bool allow_destructive;
	const struct model_set *models;
};

/* targets_run's job: ctx is a struct deploy. */
int deploy_target(const char *id, void *ctx, cJSON *out);

/* The changes as result JSON: [{kind, object, destructive, reason, note, sql: [...]}]. */
cJSON *deploy_describe(enum engine e, const struct plan *p);

/* An empty database of engine e, as a catalog (the schemas every new database has). */
void deploy_empty_catalog(enum engine e, struct catalog *out);

#endif
