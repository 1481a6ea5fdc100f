/* Unit tests of sqlserver-runner's sqlcmd script reader (tsqlscript.h). */
#include <unistd.h>

#include "buf.h"
#include "tsqlscript.h"
#include "tt.h"

struct loaded {
	struct tsql_script s;
	struct tsql_vars *vars;
	char err[512];
	int rc;
};

/* Read text as the inline script "t.sql". */
static void load_text(struct loaded *l, const char *text)
{
	tsql_script_init(&l->s);
	l->vars = tsql_vars_new();
	l->err[0] = '\0';
	l->rc = tsql_script_add_text(&l->s, text, strlen(text), "t.sql", l->vars, l->err, sizeof l->err);
}

static void unload(struct loaded *l)
{
	tsql_script_free(&l->s);
	tsql_vars_free(l->vars);
}

/* The error reading text gives (the script must fail). */
static void check_error(const char *text, const char *want)
{
	struct loaded l;
	load_text(&l, text);
	CHECK_INT(l.rc, -1);
	CHECK_INT(l.s.n, 0);
	CHECK_CONTAINS(l.err, want);
	unload(&l);
}

static void go_splits_batches(void)
{
	struct loaded l;
	load_text(&l, "SELECT 1\nGO\n\n\nSELECT 2;\nSELECT 3\n  go  \r\nGo\nSELECT 4");
	CHECK_INT(l.rc, 0);
	CHECK_INT(l.s.n, 3);
	CHECK_STR(l.s.batch[0].sql, "SELECT 1");
	CHECK_INT(l.s.batch[0].line, 1);
	CHECK_STR(l.s.batch[1].sql, "SELECT 2;\nSELECT 3");
	CHECK_INT(l.s.batch[1].len, strlen("SELECT 2;\nSELECT 3"));
	CHECK_INT(l.s.batch[1].line, 5);
	CHECK_STR(l.s.batch[2].sql, "SELECT 4");
	CHECK_INT(l.s.batch[2].line, 9);
	CHECK_INT(l.s.batch[2].count, 1);
	CHECK_STR(l.s.batch[2].file, "t.sql");
	unload(&l);
}

static void go_count_repeats(void)
{
	struct loaded l;
	load_text(&l, "INSERT t VALUES (1)\nGO 3\nSELECT 1\nGO 2147483647 -- many\n");
	CHECK_INT(l.rc, 0);
	CHECK_INT(l.s.n, 2);
	CHECK_INT(l.s.batch[0].count, 3);
	CHECK_INT(l.s.batch[1].count, 2147483647);
	unload(&l);
}

static void go_bad_counts(void)
{
	check_error("SELECT 1\nGO 0\n", "t.sql:2: bad GO count \"0\"");
	check_error("SELECT 1\nGO x\n", "t.sql:2: bad GO count \"x\"");
	check_error("SELECT 1\nGO 3 x\n", "t.sql:2: bad GO count \"3 x\"");
	check_error("SELECT 1\nGO -1\n", "t.sql:2: bad GO count");
	check_error("SELECT 1\nGO 2147483648\n", "t.sql:2: bad GO count \"2147483648\"");
	check_error("SELECT 1\nGO 99999999999999999999999999\n", "t.sql:2: bad GO count");
}

/* GO is a separator only alone on a line, outside strings, identifiers and comments. */
static void go_never_inside_strings_or_comments(void)
{
	static const char *const texts[] = {
		"SELECT 'a\nGO\nb'",
		"SELECT N'it''s\nGO\n'",
		"SELECT [odd\nGO\nname]",
		"SELECT \"odd\nGO\n\"",
		"/* a /* nested\n*/\nGO\n*/ SELECT 1",
		"SELECT 1\nGOTO done",
		"SELECT 1 -- 'not a string\n",
		"SELECT ']]''\"' AS [a]]b]\n",
	};
	for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
		struct loaded l;
		load_text(&l, texts[i]);
		CHECK_INT(l.rc, 0);
		CHECK_INT(l.s.n, 1);
		size_t len = strlen(texts[i]) - (texts[i][strlen(texts[i]) - 1] == '\n');
		if (l.s.n == 1) {
			CHECK_INT(l.s.batch[0].len, len);
			CHECK(strncmp(l.s.batch[0].sql, texts[i], len) == 0);
		}
		unload(&l);
	}
}

static void comment_only_batches_are_dropped(void)
{
	struct loaded l;
	load_text(&l, "-- header 'x\n/* block */\nGO\nSELECT 1 /* tail */\nGO\n-- trailer\n");
	CHECK_INT(l.rc, 0);
	CHECK_INT(l.s.n, 1);
	CHECK_STR(l.s.batch[0].sql, "SELECT 1 /* tail */");
	CHECK_INT(l.s.batch[0].line, 4);
	unload(&l);
}

static void empty_scripts_are_errors(void)
{
	check_error("", "t.sql: no SQL in the script");
	check_error("\n  \n\t\n", "t.sql: no SQL in the script");
	check_error("-- only\n/* comments */\nGO\n", "t.sql: no SQL in the script");
}

static void unclosed_quotes_and_comments(void)
{
	check_error("SELECT 1\nGO\nSELECT 'abc\nGO\n", "t.sql:3: a string ('...') opened here is not closed");
	check_error("SELECT [abc\n", "t.sql:1: a bracketed identifier");
	check_error("SELECT \"abc\n", "t.sql:1: a quoted identifier");
	check_error("SELECT 1\n/* /* */\n", "t.sql:2: a block comment");
}

static void variables_substituted(void)
{
	struct loaded l = { .err = "" };
	tsql_script_init(&l.s);
	l.vars = tsql_vars_new();
	CHECK_INT(tsql_vars_set(l.vars, "Db", "sales", l.err, sizeof l.err), 0);
	CHECK_INT(tsql_vars_set(l.vars, "db", "Sales2", l.err, sizeof l.err), 0); /* same name */
	CHECK_INT(tsql_vars_set(l.vars, "loop", "$(loop)", l.err, sizeof l.err), 0);
	const char *text = ":setvar Table \"say \"\"hi\"\"\"\n:SETVAR n 3\n:setvar both $(DB).orders\n"
	                   "SELECT '$(DB)', $(n), '$(table)' FROM $(both) -- $(n)\nGO $(N)\n"
	                   "SELECT '$(loop)', '$(', '$(x y)', $\n";
	CHECK_INT(tsql_script_add_text(&l.s, text, strlen(text), "t.sql", l.vars, l.err, sizeof l.err), 0);
	CHECK_STR(l.err, "");
	CHECK_INT(l.s.n, 2);
	CHECK_STR(l.s.batch[0].sql, "SELECT 'Sales2', 3, 'say \"hi\"' FROM Sales2.orders -- 3");
	CHECK_INT(l.s.batch[0].count, 3);
	CHECK_STR(l.s.batch[1].sql, "SELECT '$(loop)', '$(', '$(x y)', $");
	unload(&l);
}

static void undefined_variable_names_file_and_line(void)
{
	check_error("SELECT 1\nGO\nSELECT '$(missing)'\n", "t.sql:3: undefined variable $(missing)");
	check_error(":setvar v 1\n:setvar v\nSELECT $(v)\n", "t.sql:3: undefined variable $(v)");
	check_error("SELECT 1\nGO $(count)\n", "t.sql:2: undefined variable $(count)");
	check_error(":r $(dir)/x.sql\n", "t.sql:1: undefined variable $(dir)");
}

static void bad_variable_names(void)
{
	struct tsql_vars *v = tsql_vars_new();
	char err[256];
	CHECK_INT(tsql_vars_set(v, "", "x", err, sizeof err), -1);
	CHECK_INT(tsql_vars_set(v, "a b", "x", err, sizeof err), -1);
	CHECK_CONTAINS(err, "bad variable name \"a b\"");
	CHECK_INT(tsql_vars_set(v, "a$(b)", "x", err, sizeof err), -1);
	CHECK_INT(tsql_vars_set(v, "ok_name-1", "x", err, sizeof err), 0);
	tsql_vars_free(v);
	check_error(":setvar \"a\" 1\nSELECT 1", "t.sql:1: :setvar needs a variable name");
	check_error(":setvar a \"1\nSELECT 1", "t.sql:1: :setvar a: the value's quote is not closed");
	check_error(":setvar a 1 2\nSELECT 1", "t.sql:1: :setvar a: put a value with blanks in double quotes");
}

static void unknown_commands(void)
{
	check_error("SELECT 1\nGO\n  :connect srv\n", "t.sql:3: unsupported sqlcmd command :connect");
	check_error(":exit\n", "t.sql:1: unsupported sqlcmd command :exit");
	check_error("SELECT 1\n!! ls\n", "t.sql:2: shell commands (!!) are not supported");
	check_error(":on error stop\n", "t.sql:1: :on needs \"error exit\" or \"error ignore\"");
	check_error(":r\n", "t.sql:1: :r needs a file name");
}

static void on_error_sets_each_batch(void)
{
	struct loaded l;
	load_text(&l, "SELECT 1\nGO\n:On Error ignore\nSELECT 2\nGO\nSELECT 3\n:on error exit\nGO\n");
	CHECK_INT(l.rc, 0);
	CHECK_INT(l.s.n, 3);
	CHECK(l.s.batch[0].on_error_exit);
	CHECK(!l.s.batch[1].on_error_exit);
	CHECK(l.s.batch[2].on_error_exit);
	unload(&l);
}

static void include_relative_to_including_file(void)
{
	char dir[600], sub[600];
	snprintf(dir, sizeof dir, "%s", tt_path("main.sql"));
	snprintf(sub, sizeof sub, "%s", tt_path("lib"));
	mkdir(sub, 0700);
	tt_write(tt_path("lib/a.sql"), ":setvar who inner\nINSERT t VALUES (2)\n:r b.sql\n");
	tt_write(tt_path("lib/b.sql"), "INSERT t VALUES (3)\nGO\n");
	tt_write(dir, "INSERT t VALUES (1)\n:r \"lib/a.sql\"\nSELECT '$(who)'\n");
	struct tsql_script s;
	tsql_script_init(&s);
	struct tsql_vars *v = tsql_vars_new();
	char err[512] = "";
	CHECK_INT(tsql_script_add_file(&s, dir, v, err, sizeof err), 0);
	CHECK_STR(err, "");
	CHECK_INT(s.n, 2);
	CHECK_STR(s.batch[0].sql, "INSERT t VALUES (1)\nINSERT t VALUES (2)\nINSERT t VALUES (3)");
	CHECK_STR(s.batch[0].file, dir);
	CHECK_STR(s.batch[1].sql, "SELECT 'inner'");
	CHECK_INT(s.batch[1].line, 3);
	tsql_script_free(&s);
	tsql_vars_free(v);
}

static void include_cycle_and_missing_file(void)
{
	tt_write(tt_path("a.sql"), "SELECT 1\n:r b.sql\n");
	tt_write(tt_path("b.sql"), "SELECT 2\n\n:r a.sql\n");
	tt_write(tt_path("c.sql"), "SELECT 3\n:r nowhere.sql\n");
	struct tsql_script s;
	tsql_script_init(&s);
	struct tsql_vars *v = tsql_vars_new();
	char err[1024], a[600], b[600];
	snprintf(a, sizeof a, "%s", tt_path("a.sql"));
	snprintf(b, sizeof b, "%s", tt_path("b.sql"));
	CHECK_INT(tsql_script_add_file(&s, a, v, err, sizeof err), -1);
	struct buf want = BUF_INIT;
	buf_printf(&want, "%s:3: include cycle: %s -> %s -> %s", b, a, b, a);
	CHECK_STR(err, buf_str(&want));
	buf_free(&want);
	CHECK_INT(tsql_script_add_file(&s, tt_path("c.sql"), v, err, sizeof err), -1);
	CHECK_CONTAINS(err, "c.sql:2: cannot read ");
	CHECK_CONTAINS(err, "nowhere.sql: No such file or directory");
	CHECK_INT(tsql_script_add_file(&s, tt_path("none.sql"), v, err, sizeof err), -1);
	CHECK_CONTAINS(err, "none.sql: cannot read ");
	CHECK_INT(s.n, 0);
	tsql_script_free(&s);
	tsql_vars_free(v);
}

/* A failing file leaves what earlier files added, and nothing of its own. */
static void error_keeps_script_as_before(void)
{
	struct loaded l;
	load_text(&l, "SELECT 1\nGO\n:on error ignore\nSELECT 2\n");
	CHECK_INT(l.rc, 0);
	const char *bad = ":on error exit\nSELECT 3\nGO\nSELECT $(nope)\n";
	CHECK_INT(tsql_script_add_text(&l.s, bad, strlen(bad), "bad.sql", l.vars, l.err, sizeof l.err), -1);
	CHECK_STR(l.err, "bad.sql:4: undefined variable $(nope): give it with -v nope=VALUE or :setvar");
	CHECK_INT(l.s.n, 2);
	const char *more = "SELECT 4\n";
	CHECK_INT(tsql_script_add_text(&l.s, more, strlen(more), "more.sql", l.vars, l.err, sizeof l.err), 0);
	CHECK_INT(l.s.n, 3);
	CHECK(!l.s.batch[2].on_error_exit); /* the failed file's :on error exit is undone */
	CHECK_STR(l.s.batch[2].file, "more.sql");
	unload(&l);
}

/* Each file named on the command line ends its batch; variables carry over. */
static void files_end_their_batches(void)
{
	struct loaded l;
	load_text(&l, ":setvar t orders\nSELECT 1\n");
	const char *second = "SELECT * FROM $(t)\n";
	CHECK_INT(tsql_script_add_text(&l.s, second, strlen(second), "2.sql", l.vars, l.err, sizeof l.err), 0);
	CHECK_INT(l.s.n, 2);
	CHECK_STR(l.s.batch[1].sql, "SELECT * FROM orders");
	CHECK_STR(l.s.batch[1].file, "2.sql");
	unload(&l);
}

static void only_commands_is_not_empty(void)
{
	struct loaded l;
	load_text(&l, ":setvar a 1\n:on error exit\n");
	CHECK_INT(l.rc, 0);
	CHECK_INT(l.s.n, 0);
	unload(&l);
}

static void encodings(void)
{
	struct loaded l;
	load_text(&l, "\xef\xbb\xbfSELECT N'\xc3\xa9t\xc3\xa9'\r\nGO\r\n");
	CHECK_INT(l.rc, 0);
	CHECK_INT(l.s.n, 1);
	CHECK_STR(l.s.batch[0].sql, "SELECT N'\xc3\xa9t\xc3\xa9'");
	unload(&l);
	check_error("\xff\xfeS\0E\0", "t.sql: the script is UTF-16: save it as UTF-8");
	tsql_script_init(&l.s);
	l.vars = tsql_vars_new();
	CHECK_INT(tsql_script_add_text(&l.s, "SELECT 1\0", 9, "t.sql", l.vars, l.err, sizeof l.err), -1);
	CHECK_CONTAINS(l.err, "t.sql: the script holds a NUL byte (at offset 8)");
	unload(&l);
}

TT_MAIN(TT_CASE(go_splits_batches), TT_CASE(go_count_repeats), TT_CASE(go_bad_counts),
        TT_CASE(go_never_inside_strings_or_comments), TT_CASE(comment_only_batches_are_dropped),
        TT_CASE(empty_scripts_are_errors), TT_CASE(unclosed_quotes_and_comments), TT_CASE(variables_substituted),
        TT_CASE(undefined_variable_names_file_and_line), TT_CASE(bad_variable_names), TT_CASE(unknown_commands),
        TT_CASE(on_error_sets_each_batch), TT_CASE(include_relative_to_including_file),
        TT_CASE(include_cycle_and_missing_file), TT_CASE(error_keeps_script_as_before),
        TT_CASE(files_end_their_batches), TT_CASE(only_commands_is_not_empty), TT_CASE(encodings))
