/* runid: the run identity as one short label. */
#include "runid.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"

static const char *const parts[] = { "TINYRUN_DAG_ID", "TINYRUN_TASK_ID", "TINYRUN_RUN_ID", "TINYRUN_TRY_NUMBER",
	                             "TINYRUN_MAP_INDEX" };

bool runid_passes_to_child(const char *var)
{
	if (strncmp(var, "TINYRUN_", 8) != 0)
		return true;
	for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
		size_t n = strlen(parts[i]);
		if (strncmp(var, parts[i], n) == 0 && var[n] == '=')
			return true;
	}
	return false;
}

char *runid_application_name(const char *runner, size_t max)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, "tinyrun");
	const char *dag = getenv(parts[0]);
	if (!dag || !*dag) {
		buf_printf(&b, "/%s", runner);
	} else {
		for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
			const char *v = getenv(parts[i]);
			/* Airflow uses map index -1 for an unmapped task: leave it out. */
			if (v && *v && strcmp(v, "-1") != 0)
				buf_printf(&b, "/%s", v);
		}
	}
	char *s = buf_detach(&b);
	if (strlen(s) > max)
		s[max] = '\0';
	return s;
}
