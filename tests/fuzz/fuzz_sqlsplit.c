/* libFuzzer target: postgres-runner's SQL splitter and psql variables (sqlsplit.h).
 * Without variables every statement must be a verbatim piece of the input, with line numbers that
 * never go down and stay inside the input; with variables the splitter must stay memory-safe. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sqlsplit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count_lines(const char *s)
{
	int n = 1;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void check_plain(const char *text)
{
	struct sql_script script;
	char err[256];
	if (sql_split(text, NULL, &script, err, sizeof err)) {
		if (strncmp(err, "line ", 5) != 0)
			abort();
		return;
	}
	int last = 1, lines = count_lines(text);
	for (size_t i = 0; i < script.len; i++) {
		const struct sql_stmt *st = &script.stmts[i];
		if (st->line < last || st->line > lines || !*st->text || !strstr(text, st->text))
			abort();
		last = st->line;
	}
	if (script.unknown_vars.len && !strchr(text, ':'))
		abort();
	sql_script_free(&script);
}

static void check_vars(const char *text)
{
	static const char *const items[] = { "v=it's", "b=back\\slash", "i=we\"ird", "n=1; SELECT 2", "x=:x",
		                             "e=",     "q='$$'" };
	struct strlist vars = { 0 };
	for (size_t i = 0; i < sizeof items / sizeof *items; i++)
		strlist_push(&vars, items[i]);
	struct sql_script script;
	char err[256];
	if (sql_split(text, &vars, &script, err, sizeof err) == 0)
		sql_script_free(&script);
	strlist_free(&vars);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xstrndup((const char *)data, size);
	check_plain(text);
	check_vars(text);
	free(text);
	return 0;
}
