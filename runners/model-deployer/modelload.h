/* modelload: model files (YAML, libyaml's document API) into a model_set, and the validation of a
 * whole set. Every problem becomes one line "file:line: model: field: message" (model is
 * schema.table, or "-" before it is known); loading goes on to report all of them. */
#ifndef MD_MODELLOAD_H
#define MD_MODELLOAD_H

#include <stddef.h>

#include "model.h"
#include "strlist.h"

/* Load one file's text (file is the name errors use). Tables are appended to m. Returns the
 * number of errors added. */
size_t model_load_text(const char *file, const char *text, size_t len, struct model_set *m, struct strlist *errors);

/* Load path: a model file, or a folder whose *.yml and *.yaml files (sorted, not recursive) are
 * the models. Returns the number of errors added (a missing or empty folder is one). */
size_t model_load_path(const char *path, struct model_set *m, struct strlist *errors);

/* Expand the mixins and check the whole set: names, types, duplicates, keys, foreign keys to
 * tables and columns of the set. Returns the number of errors added. */
size_t model_validate(struct model_set *m, struct strlist *errors);

/* Load and validate; errors stay in errors (the set is freed on error). */
size_t model_load_all(const char *path, struct model_set *m, struct strlist *errors);

#endif
