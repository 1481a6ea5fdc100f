/* libFuzzer target: sqlserver-runner's sqlcmd script reader (tsqlscript.h), the GO splitter and
 * the variables. Every batch must be non-empty, of the length it claims, with a GO count from 1
 * to the maximum and line numbers that never go down and stay inside the input; without $ in the
 * input every line of a batch is a line of the input; an error names the script. With variables
 * set, substitution (and :setvar growing values) must stay memory-safe. :r is turned into an
 * unknown command so that inputs never read the machine's files. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "tsqlscript.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned count_lines(const char *s, size_t len)
{
	unsigned n = 1;
	for (size_t i = 0; i < len; i++)
		n += s[i] == '\n';
	return n;
}

/* Every line of the batch appears in the text. */
static void check_lines_from(const char *text, const struct tsql_batch *b)
{
	const char *p = b->sql, *end = b->sql + b->len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		char *line = xstrndup(p, eol ? (size_t)(eol - p) : (size_t)(end - p));
		if (!strstr(text, line))
			abort();
		free(line);
		p = eol ? eol + 1 : end;
	}
}

static void check_script(const char *text, size_t len, struct tsql_vars *vars, bool plain)
{
	struct tsql_script s;
	tsql_script_init(&s);
	char err[512];
	if (tsql_script_add_text(&s, text, len, "fuzz.sql", vars, err, sizeof err) != 0) {
		if (strncmp(err, "fuzz.sql:", 9) != 0 || s.n != 0)
			abort();
		tsql_script_free(&s);
		return;
	}
	unsigned last = 1, lines = count_lines(text, len);
	for (size_t i = 0; i < s.n; i++) {
		const struct tsql_batch *b = &s.batch[i];
		if (b->len == 0 || strlen(b->sql) != b->len || b->count < 1 || b->count > TSQL_GO_COUNT_MAX ||
		    b->line < last || b->line > lines || strcmp(b->file, "fuzz.sql") != 0)
			abort();
		if (plain)
			check_lines_from(text, b);
		last = b->line;
	}
	tsql_script_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xstrndup((const char *)data, size);
	size_t len = strlen(text); /* NUL bytes are tested by the unit tests */
	for (char *p = text; (p = strchr(p, ':')) != NULL; p++)
		if (p[1] == 'r' || p[1] == 'R')
			p[1] = 'x';
	struct tsql_vars *none = tsql_vars_new();
	check_script(text, len, none, !memchr(text, '$', len));
	tsql_vars_free(none);

	static const char *const items[][2] = { { "a", "1" }, { "Name", "it's" }, { "n", "3" },  { "self", "$(self)" },
		                                { "e", "" },  { "q", "\"" },      { "go", "GO" } };
	struct tsql_vars *vars = tsql_vars_new();
	char err[256];
	for (size_t i = 0; i < sizeof items / sizeof *items; i++)
		tsql_vars_set(vars, items[i][0], items[i][1], err, sizeof err);
	check_script(text, len, vars, false);
	tsql_vars_set(vars, text, "x", err, sizeof err);
	tsql_vars_free(vars);
	free(text);
	return 0;
}
