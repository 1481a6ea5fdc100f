/* libFuzzer target: model-deployer's model parser (modelload.h) and diff (diff.h, ddl.h). Any
 * input must load without a memory error; every error line must start with "m.yml:LINE: "; a
 * valid set must render on both engines, and diffing it against the catalog it deploys to must
 * find nothing to do (the diff and the catalog read-back agree). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ddl.h"
#include "diff.h"
#include "modelload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_errors(const struct strlist *errors)
{
	for (size_t i = 0; i < errors->len; i++)
		if (strncmp(errors->items[i], "m.yml:", 6) != 0 || errors->items[i][6] < '0' ||
		    errors->items[i][6] > '9')
			abort();
}

static void check_engine(const struct model_set *m, enum engine e)
{
	struct catalog empty = { 0 }, deployed;
	struct plan p;
	struct strlist stmts = { 0 };
	diff_models(m, &empty, e, &p);
	for (size_t i = 0; i < p.n; i++)
		ddl_change(e, &p.items[i], &stmts);
	if (m->ntables && stmts.len == 0)
		abort();
	plan_free(&p);
	strlist_free(&stmts);
	diff_catalog_of(m, e, &deployed);
	diff_models(m, &deployed, e, &p);
	if (p.n)
		abort();
	plan_free(&p);
	catalog_free(&deployed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct model_set m = { 0 };
	struct strlist errors = { 0 };
	size_t n = model_load_text("m.yml", (const char *)data, size, &m, &errors);
	if (n == 0)
		n = model_validate(&m, &errors);
	if (n != errors.len)
		abort();
	check_errors(&errors);
	if (n == 0) {
		check_engine(&m, ENGINE_POSTGRES);
		check_engine(&m, ENGINE_MSSQL);
	}
	model_free(&m);
	strlist_free(&errors);
	return 0;
}
