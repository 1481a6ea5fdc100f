/* libFuzzer target: postgres-runner's psql script reader (sqlsplit.h) and meta-commands
 * (psqlmeta.h). Without variables every statement and COPY data block must be a verbatim piece of
 * the input, with line numbers that never go down and stay inside the input; expanding variables,
 * reading meta-command arguments and running the meta-commands must stay memory-safe. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "psqlmeta.h"
#include "sqlsplit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count_lines(const char *s)
{
	int n = 1;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void check_item(const char *text, const struct sql_stmt *st)
{
	if (!strstr(text, st->text) || (!st->meta_args && !*st->text))
		abort();
	if (st->meta_args && (st->gset_args || st->copy_in || !strstr(text, st->meta_args)))
		abort();
	if (st->copy_in && (st->copy_data < text || st->copy_data + st->copy_len > text + strlen(text)))
		abort();
}

static void check_plain(const char *text)
{
	struct sql_script script;
	char err[256];
	if (sql_split(text, &script, err, sizeof err)) {
		if (strncmp(err, "line ", 5) != 0)
			abort();
		return;
	}
	int last = 1, lines = count_lines(text);
	for (size_t i = 0; i < script.len; i++) {
		const struct sql_stmt *st = &script.stmts[i];
		if (st->line < last || st->line > lines)
			abort();
		check_item(text, st);
		last = st->line;
	}
	sql_script_free(&script);
}

/* Expand every statement and run every meta-command (\i and \ir do nothing at run time). \set
 * may double a value each time (\set v :v:v), so only the first few run. */
static void check_vars(const char *text)
{
	static const char *const items[] = { "v=it's", "b=back\\slash", "i=we\"ird", "n=1; SELECT 2", "x=:x",
		                             "e=",     "q='$$'",        "t=on" };
	struct meta_state st = { .out = fopen("/dev/null", "w") };
	for (size_t i = 0; i < sizeof items / sizeof *items; i++)
		strlist_push(&st.vars, items[i]);
	struct sql_script script;
	char err[256];
	int sets = 0;
	if (st.out && sql_split(text, &script, err, sizeof err) == 0) {
		for (size_t i = 0; i < script.len; i++) {
			const struct sql_stmt *s = &script.stmts[i];
			const char *cmd = s->meta_args ? meta_canonical(s->text) : NULL;
			struct buf out = BUF_INIT;
			if (!s->meta_args)
				sql_expand(s->text, &st.vars, &out, NULL, err, sizeof err);
			else if (cmd && (strcmp(cmd, "set") != 0 || sets++ < 8))
				meta_run(&st, cmd, s->meta_args, err, sizeof err);
			buf_free(&out);
		}
		sql_script_free(&script);
	}
	bool value;
	meta_parse_bool(text, &value);
	if (st.out)
		fclose(st.out);
	meta_state_free(&st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xstrndup((const char *)data, size);
	check_plain(text);
	check_vars(text);
	free(text);
	return 0;
}
