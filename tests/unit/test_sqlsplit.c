/* Unit tests: postgres-runner's psql-compatible splitter and variables (sqlsplit.h), psql's
 * meta-commands (psqlmeta.h) and the checked, included script (script.h). */
#include <stdlib.h>
#include <string.h>

#include "psqlmeta.h"
#include "script.h"
#include "sqlsplit.h"
#include "tt.h"

static struct sql_script script;
static struct strlist vars;
static struct strlist unknown;
static char err[256];

static int split(const char *text)
{
	sql_script_free(&script);
	return sql_split(text, &script, err, sizeof err);
}

/* Split, then expand each statement with vars, as `run` does just before sending it. */
static int split_expand(const char *text)
{
	int rc = split(text);
	for (size_t i = 0; rc == 0 && i < script.len; i++) {
		struct buf out = BUF_INIT;
		rc = sql_expand(script.stmts[i].text, &vars, &out, &unknown, err, sizeof err);
		free(script.stmts[i].text);
		script.stmts[i].text = buf_detach(&out);
		buf_free(&out);
	}
	return rc;
}

static void set_var(const char *item)
{
	strlist_push(&vars, item);
}

/* The items as "line:text|line:text|...", for compact expectations: a meta-command as
 * "line:\\name[args]", a statement ended by \\gset as "line:text\\gset[args]", COPY data as
 * "line:text<data>". */
static const char *joined(void)
{
	static char out[4096];
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; i < script.len && n < sizeof out; i++) {
		const struct sql_stmt *st = &script.stmts[i];
		n += (size_t)snprintf(out + n, sizeof out - n, "%s%d:%s%s", i ? "|" : "", st->line,
		                      st->meta_args ? "\\" : "", st->text);
		if (st->meta_args && n < sizeof out)
			n += (size_t)snprintf(out + n, sizeof out - n, "[%s]", st->meta_args);
		if (st->gset_args && n < sizeof out)
			n += (size_t)snprintf(out + n, sizeof out - n, "\\gset[%s]", st->gset_args);
		if (st->copy_in && n < sizeof out)
			n += (size_t)snprintf(out + n, sizeof out - n, "<%.*s>", (int)st->copy_len, st->copy_data);
	}
	return out;
}

#define CHECK_SPLIT(text, expect)                                                                                      \
	do {                                                                                                           \
		CHECK_INT(split(text), 0);                                                                             \
		CHECK_STR(joined(), expect);                                                                           \
	} while (0)

#define CHECK_EXPAND(text, expect)                                                                                     \
	do {                                                                                                           \
		CHECK_INT(split_expand(text), 0);                                                                      \
		CHECK_STR(joined(), expect);                                                                           \
	} while (0)

#define CHECK_SPLIT_ERROR(text, msg)                                                                                   \
	do {                                                                                                           \
		CHECK_INT(split(text), -1);                                                                            \
		CHECK_STR(err, msg);                                                                                   \
		CHECK_INT(script.len, 0);                                                                              \
	} while (0)

static void simple_statements(void)
{
	CHECK_SPLIT("SELECT 1; SELECT 2;", "1:SELECT 1|1:SELECT 2");
	CHECK_SPLIT("select 1;\nselect 2;\n\nselect 3;\n", "1:select 1|2:select 2|4:select 3");
	CHECK_SPLIT("", "");
	CHECK_SPLIT("   \n\t\n", "");
	CHECK_SPLIT(";;;", "");
	CHECK_SPLIT("SELECT 1;;SELECT 2", "1:SELECT 1|1:SELECT 2");
}

static void trailing_statement_without_semicolon(void)
{
	CHECK_SPLIT("CREATE TABLE t (a int);\nINSERT INTO t VALUES (1)\n",
	            "1:CREATE TABLE t (a int)|2:INSERT INTO t VALUES (1)");
	CHECK_SPLIT("SELECT 1", "1:SELECT 1");
}

static void comment_only_tail_is_no_statement(void)
{
	CHECK_SPLIT("SELECT 1; -- done\n", "1:SELECT 1");
	CHECK_SPLIT("SELECT 1;\n/* the end */\n-- really\n", "1:SELECT 1");
	CHECK_SPLIT("-- only a comment", "");
	CHECK_SPLIT("/* a /* nested */ comment */", "");
}

static void semicolons_in_quotes(void)
{
	CHECK_SPLIT("SELECT 'a;b', 'it''s;'; SELECT 2", "1:SELECT 'a;b', 'it''s;'|1:SELECT 2");
	CHECK_SPLIT("SELECT \"we;ird\"\"col\" FROM t; SELECT 2", "1:SELECT \"we;ird\"\"col\" FROM t|1:SELECT 2");
	CHECK_SPLIT("SELECT E'a\\';b'; SELECT 2", "1:SELECT E'a\\';b'|1:SELECT 2");
	CHECK_SPLIT("SELECT e'\\\\'; SELECT 2", "1:SELECT e'\\\\'|1:SELECT 2");
	/* Standard strings: a backslash is an ordinary character. */
	CHECK_SPLIT("SELECT 'a\\'; SELECT 2", "1:SELECT 'a\\'|1:SELECT 2");
	CHECK_SPLIT("SELECT U&'d\\0061t;a'; SELECT 2", "1:SELECT U&'d\\0061t;a'|1:SELECT 2");
}

static void semicolons_in_dollar_quotes(void)
{
	CHECK_SPLIT("DO $$ BEGIN PERFORM 1; END $$; SELECT 2", "1:DO $$ BEGIN PERFORM 1; END $$|1:SELECT 2");
	CHECK_SPLIT(
	        "CREATE FUNCTION f() RETURNS int AS $body$\nBEGIN\n  RETURN 1; -- $$ inside\nEND;\n$body$ LANGUAGE "
	        "plpgsql;\nSELECT f();",
	        "1:CREATE FUNCTION f() RETURNS int AS $body$\nBEGIN\n  RETURN 1; -- $$ inside\nEND;\n$body$ LANGUAGE "
	        "plpgsql|6:SELECT f()");
	CHECK_SPLIT("SELECT $a$ $b$ ; $b$ $a$; SELECT 2", "1:SELECT $a$ $b$ ; $b$ $a$|1:SELECT 2");
	/* $1 parameters and identifiers containing $ are not dollar quotes. */
	CHECK_SPLIT("PREPARE p AS SELECT $1; SELECT a$b$c FROM t;", "1:PREPARE p AS SELECT $1|1:SELECT a$b$c FROM t");
	CHECK_SPLIT("SELECT $_x1$;$_x1$;", "1:SELECT $_x1$;$_x1$");
}

static void semicolons_in_comments(void)
{
	CHECK_SPLIT("SELECT 1 -- a; b\n+ 1; SELECT 2", "1:SELECT 1 -- a; b\n+ 1|2:SELECT 2");
	CHECK_SPLIT("SELECT /* a; /* b; */ c; */ 1; SELECT 2", "1:SELECT /* a; /* b; */ c; */ 1|1:SELECT 2");
	CHECK_SPLIT("SELECT 1 /* ; */ ; SELECT 2", "1:SELECT 1 /* ; */|1:SELECT 2");
}

static void semicolons_in_parentheses(void)
{
	CHECK_SPLIT("CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2)); "
	            "SELECT 1",
	            "1:CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES "
	            "(2))|1:SELECT 1");
	CHECK_SPLIT("SELECT (1;", "1:SELECT (1;");
	CHECK_SPLIT("SELECT 1); SELECT 2", "1:SELECT 1)|1:SELECT 2");
}

static void begin_atomic_bodies(void)
{
	CHECK_SPLIT("CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n  SELECT "
	            "2;\nEND;\nSELECT f();",
	            "1:CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n  SELECT "
	            "2;\nEND|6:SELECT f()");
	CHECK_SPLIT(
	        "create or replace procedure p() language sql begin atomic insert into t values (case when true then 1 "
	        "else 2 end); end; select 1",
	        "1:create or replace procedure p() language sql begin atomic insert into t values (case when true then "
	        "1 else 2 end); end|1:select 1");
	CHECK_SPLIT("CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN x THEN 1 END; END; "
	            "SELECT 3",
	            "1:CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN x THEN 1 END; "
	            "END|1:SELECT 3");
	/* Outside CREATE FUNCTION/PROCEDURE, BEGIN is a transaction statement. */
	CHECK_SPLIT("BEGIN; SELECT 1; END;", "1:BEGIN|1:SELECT 1|1:END");
	CHECK_SPLIT("CREATE TABLE begin_end (a int); BEGIN; COMMIT;",
	            "1:CREATE TABLE begin_end (a int)|1:BEGIN|1:COMMIT");
}

static void line_numbers(void)
{
	CHECK_SPLIT("\n\n-- header\n/* block\ncomment */\nSELECT\n1;\n\n'x'\n;SELECT 3",
	            "6:-- header\n/* block\ncomment */\nSELECT\n1|9:'x'|10:SELECT 3");
	CHECK_SPLIT("SELECT 'multi\nline';\nSELECT 2;", "1:SELECT 'multi\nline'|3:SELECT 2");
	CHECK_SPLIT("\r\nSELECT 1;\r\n\r\nSELECT 2\r\n", "2:SELECT 1|4:SELECT 2");
}

static void variables_plain_literal_identifier(void)
{
	set_var("tbl=events");
	set_var("day=2024-01-01");
	set_var("col=Event Name");
	CHECK_EXPAND("SELECT :\"col\" FROM :tbl WHERE d = :'day';",
	             "1:SELECT \"Event Name\" FROM events WHERE d = '2024-01-01'");
	CHECK_INT(unknown.len, 0);
}

static void variables_last_definition_wins(void)
{
	set_var("n=1");
	set_var("n=2");
	set_var("empty=");
	CHECK_EXPAND("SELECT :n, :'empty', :\"n\";", "1:SELECT 2, '', \"2\"");
	CHECK_STR(sql_var_get(&vars, "n", 1), "2");
	CHECK(sql_var_get(&vars, "nn", 2) == NULL);
	CHECK(sql_var_get(NULL, "n", 1) == NULL);
}

static void variables_escaped_like_pqescape(void)
{
	set_var("q=it's");
	set_var("b=back\\slash 'q'");
	set_var("i=we\"ird");
	CHECK_EXPAND("SELECT :'q', :'b', :\"i\";", "1:SELECT 'it''s',  E'back\\\\slash ''q''', \"we\"\"ird\"");
}

static void variables_unknown_left_untouched(void)
{
	set_var("known=1");
	CHECK_EXPAND("SELECT :unknown, :'other', :\"third\", :unknown, :known;",
	             "1:SELECT :unknown, :'other', :\"third\", :unknown, 1");
	CHECK_INT(unknown.len, 3);
	CHECK_STR(unknown.items[0], "unknown");
	CHECK_STR(unknown.items[1], "other");
	CHECK_STR(unknown.items[2], "third");
}

static void variables_not_in_casts_slices_or_quotes(void)
{
	set_var("int=XX");
	set_var("n=3"); /* a[1:n] is psql's a[13] when n is set */
	set_var("x=YY");
	CHECK_EXPAND("SELECT '1'::int, a[1:2], a[1:n], ':x', \":x\", $$ :x $$, E':x' -- :x\n/* :x */;",
	             "1:SELECT '1'::int, a[1:2], a[13], ':x', \":x\", $$ :x $$, E':x' -- :x\n/* :x */");
	CHECK_INT(unknown.len, 0);
	CHECK_EXPAND("SELECT x::int, x :: int, :x::int", "1:SELECT x::int, x :: int, YY::int");
	CHECK_EXPAND("SELECT a := 1, ':' , : , :9, :$x", "1:SELECT a := 1, ':' , : , :9, :$x");
	/* As psql: ":'" without its closing quote leaves the quote to start a string. */
	CHECK_SPLIT_ERROR("SELECT :'unterminated", "line 1: unterminated quoted string");
}

static void variable_value_may_hold_semicolon(void)
{
	set_var("v=1; DROP TABLE t");
	CHECK_EXPAND("SELECT :v; SELECT :'v';", "1:SELECT 1; DROP TABLE t|1:SELECT '1; DROP TABLE t'");
}

static void meta_commands_are_items(void)
{
	CHECK_SPLIT("\\set x 1\nSELECT :x;\n\\echo hi  'there' \r\n-- gone\n\\unset x",
	            "1:\\set[x 1]|2:SELECT :x|3:\\echo[hi  "
	            "'there']|5:\\unset[x]");
	CHECK_SPLIT("\\endif\n\\if :{?x}\n", "1:\\endif[]|2:\\if[:{?x}]");
	CHECK_SPLIT("SELECT 1;\\echo a\n", "1:SELECT 1|1:\\echo[a]");
	/* Inside quotes, dollar quotes and comments a backslash is data. */
	CHECK_SPLIT("SELECT '\\n', $$\\$$, \"a\\b\" -- \\x\n;", "1:SELECT '\\n', $$\\$$, \"a\\b\" -- \\x");
	CHECK_SPLIT_ERROR("SELECT 1\n\\set x 1\n;", "line 2: \\set inside a statement (started on line 1): end the "
	                                            "statement with ';' first");
	CHECK_SPLIT_ERROR("SELECT 1 \\gexec",
	                  "line 1: \\gexec inside a statement (started on line 1): end the statement "
	                  "with ';' first");
}

static void gset_ends_a_statement(void)
{
	CHECK_SPLIT("SELECT 1 AS a \\gset p_\nSELECT 2;", "1:SELECT 1 AS a\\gset[p_]|2:SELECT 2");
	CHECK_SPLIT("SELECT\n 1 AS a\\gset\n", "1:SELECT\n 1 AS a\\gset[]");
	CHECK_SPLIT_ERROR("SELECT 1;\n\\gset",
	                  "line 2: \\gset without a query: write it after one, as in SELECT 1 AS x "
	                  "\\gset");
}

static void copy_from_stdin_data(void)
{
	CHECK_SPLIT("COPY t (a, b) FROM stdin;\n1\t\\N\nx\\\\y;\t'\"$$\n\\set no\n\\.\nSELECT 1;",
	            "1:COPY t (a, b) FROM stdin<1\t\\N\nx\\\\y;\t'\"$$\n\\set no\n>|6:SELECT 1");
	CHECK_SPLIT("copy t from STDIN with (format csv);  \r\na,b\r\n\\.\r\n\\echo x",
	            "1:copy t from STDIN with "
	            "(format csv)<a,b\r\n>|4:\\echo[x]");
	CHECK_SPLIT("COPY t FROM stdin;\n\\.", "1:COPY t FROM stdin<>");
	CHECK_SPLIT("COPY t FROM stdin;\n\\.x\n \\.\n\\.\n", "1:COPY t FROM stdin<\\.x\n \\.\n>");
	/* Not COPY FROM stdin: no data follows. */
	CHECK_SPLIT("COPY (SELECT a FROM stdin) TO STDOUT;\nSELECT 1;",
	            "1:COPY (SELECT a FROM stdin) TO STDOUT|2:SELECT 1");
	CHECK_SPLIT("COPY t FROM '/x/stdin';\nCOPY t TO stdout;", "1:COPY t FROM '/x/stdin'|2:COPY t TO stdout");
	CHECK_SPLIT("SELECT 'copy' FROM stdin;\nSELECT 1;", "1:SELECT 'copy' FROM stdin|2:SELECT 1");
	CHECK_SPLIT_ERROR("COPY t FROM stdin;\n1\n2\n",
	                  "line 2: the COPY data starting here has no end: a line \\. must "
	                  "follow it");
	CHECK_SPLIT_ERROR("\nCOPY t FROM stdin", "line 2: COPY ... FROM stdin has no data: end it with ';' and put the "
	                                         "data on the lines after it, ended by a line \\.");
	CHECK_SPLIT_ERROR("COPY t FROM stdin;",
	                  "line 1: COPY ... FROM stdin has no data: put it on the lines after the "
	                  "statement, ended by a line \\.");
	CHECK_SPLIT_ERROR("COPY t FROM stdin; SELECT 1;\n\\.\n", "line 1: text after COPY ... FROM stdin; on its line: "
	                                                         "its data starts on the next line");
}

static void variable_set_test(void)
{
	set_var("x=");
	CHECK_EXPAND("SELECT :{?x}, :{?y}, ':{?x}', :{?}, :{x};", "1:SELECT TRUE, FALSE, ':{?x}', :{?}, :{x}");
	CHECK_SPLIT("SELECT :{?x};", "1:SELECT :{?x}");
}

static const char *args_of(const char *raw)
{
	static char out[1024];
	struct strlist args = { 0 };
	size_t n = 0;
	out[0] = '\0';
	if (meta_args(raw, &vars, &args, err, sizeof err)) {
		snprintf(out, sizeof out, "ERROR %s", err);
		return out;
	}
	for (size_t i = 0; i < args.len && n < sizeof out; i++)
		n += (size_t)snprintf(out + n, sizeof out - n, "%s[%s]", i ? " " : "", args.items[i]);
	strlist_free(&args);
	return out;
}

static void meta_arguments_like_psql(void)
{
	set_var("v=it's");
	CHECK_STR(args_of("  a  'b c' \"D e\" 'it''s' 'x\\ty\\101\\x41\\q' "), "[a] [b c] [\"D e\"] [it's] [x\ty"
	                                                                       "AAq]");
	CHECK_STR(args_of(":v :'v' :\"v\" :{?v} :{?nope} :nope pre:v:v a::b ''"),
	          "[it's] ['it''s'] [\"it's\"] [TRUE] [FALSE] [:nope] [preit'sit's] [a::b] []");
	CHECK_STR(args_of("'don''t' x'y z'w"), "[don't] [xy zw]");
	CHECK_STR(args_of(""), "");
	CHECK_STR(args_of("`ls`"), "ERROR backquotes (shell commands) are not supported in meta-command arguments");
	CHECK_STR(args_of("'abc"), "ERROR unterminated quoted string in the meta-command's arguments");
	CHECK_STR(args_of("\"abc"), "ERROR unterminated quoted string in the meta-command's arguments");
	CHECK_STR(args_of("'abc\\"), "ERROR unterminated quoted string in the meta-command's arguments");
}

static void meta_names_and_checks(void)
{
	CHECK_STR(meta_canonical("include"), "i");
	CHECK_STR(meta_canonical("include_relative"), "ir");
	CHECK_STR(meta_canonical("gset"), "gset");
	CHECK(meta_canonical("copy") == NULL);
	CHECK(meta_canonical("g") == NULL);
	CHECK(meta_canonical("") == NULL);
	struct strlist args = { 0 };
	CHECK_INT(meta_check_args("unset", &args, err, sizeof err), -1);
	CHECK_STR(err, "missing required argument");
	CHECK_INT(meta_check_args("set", &args, err, sizeof err), 0);
	CHECK_INT(meta_check_args("endif", &args, err, sizeof err), 0);
	strlist_push(&args, "bad name");
	CHECK_INT(meta_check_args("set", &args, err, sizeof err), -1);
	CHECK_STR(err, "invalid variable name: \"bad name\"");
	strlist_free(&args);
	CHECK(meta_var_name_ok("a_1") && meta_var_name_ok("1a") && meta_var_name_ok("\xc3\xa9"));
	CHECK(!meta_var_name_ok("") && !meta_var_name_ok("a-b") && !meta_var_name_ok("a b"));
}

static void psql_booleans(void)
{
	static const char *const yes[] = { "t", "TRUE", "tru", "y", "Yes", "on", "ON", "1", NULL };
	static const char *const no[] = { "f", "False", "n", "NO", "of", "off", "OFF", "0", NULL };
	static const char *const bad[] = { "", "o", "2", "10", "tr ue", "onn", "yess", "truee", " true", "-1", NULL };
	bool v;
	for (const char *const *p = yes; *p; p++) {
		v = false;
		CHECK(meta_parse_bool(*p, &v) && v);
	}
	for (const char *const *p = no; *p; p++) {
		v = true;
		CHECK(meta_parse_bool(*p, &v) && !v);
	}
	for (const char *const *p = bad; *p; p++)
		CHECK(!meta_parse_bool(*p, &v));
}

static void variables_set_and_unset(void)
{
	struct strlist v = { 0 };
	strlist_push(&v, "a=1");
	strlist_push(&v, "a=2"); /* -v a=1 -v a=2 */
	meta_var_set(&v, "a", "3");
	meta_var_set(&v, "b", "x=y");
	CHECK_INT(v.len, 2);
	CHECK_STR(sql_var_get(&v, "a", 1), "3");
	CHECK_STR(sql_var_get(&v, "b", 1), "x=y");
	meta_var_unset(&v, "a");
	meta_var_unset(&v, "nope");
	CHECK(sql_var_get(&v, "a", 1) == NULL);
	CHECK_INT(v.len, 1);
	strlist_free(&v);
}

/* Run meta-commands in order ("cmd args" per item); what \echo printed, or "ERROR ..." */
static const char *run_metas(const char *const *cmds)
{
	static char out[1024];
	struct meta_state st = { .out = tmpfile() };
	for (size_t i = 0; i < vars.len; i++)
		strlist_push(&st.vars, vars.items[i]);
	int rc = 0;
	for (; *cmds && rc == 0; cmds++) {
		char name[32];
		size_t n = strcspn(*cmds, " ");
		snprintf(name, sizeof name, "%.*s", (int)n, *cmds);
		rc = meta_run(&st, name, *cmds + n, err, sizeof err);
	}
	rewind(st.out);
	size_t len = fread(out, 1, sizeof out - 1, st.out);
	out[len] = '\0';
	if (rc)
		snprintf(out, sizeof out, "ERROR %s", err);
	fclose(st.out);
	meta_state_free(&st);
	return out;
}

static void conditionals_follow_psql(void)
{
	set_var("yes=on");
	const char *const nested[] = { "if :yes", "echo a",  "if 0",    "echo no", "elif ye",   "echo b",  "elif 1",
		                       "echo no", "else",    "echo no", "endif",   "elif true", "echo no", "else",
		                       "if t",    "echo no", "endif",   "endif",   "echo c",    NULL };
	CHECK_STR(run_metas(nested), "a\nb\nc\n");
	const char *const else_branch[] = { "if off", "echo no",  "elif false", "echo no",
		                            "else",   "echo yes", "endif",      NULL };
	CHECK_STR(run_metas(else_branch), "yes\n");
	/* An inactive branch's expression is not evaluated, so even an invalid one is fine there. */
	const char *const skipped[] = { "if 1",     "elif bogus", "else",  "endif", "if 0",
		                        "if bogus", "endif",      "endif", NULL };
	CHECK_STR(run_metas(skipped), "");
	const char *const invalid[] = { "if yes", "elif x", "endif", NULL };
	CHECK_STR(run_metas(invalid) + 0, "");
	const char *const invalid2[] = { "if maybe", NULL };
	CHECK_STR(run_metas(invalid2), "ERROR unrecognized value \"maybe\" for \"\\if expression\": Boolean expected");
	const char *const unset_test[] = { "if :{?nope}", "echo no", "endif", "if :{?yes}", "echo set", "endif", NULL };
	CHECK_STR(run_metas(unset_test), "set\n");
}

static void set_value_size_is_bounded(void)
{
	const char *cmds[40] = { "set v 0123456789abcdef" };
	for (int i = 1; i < 39; i++)
		cmds[i] = "set v :v:v";
	CHECK_STR(run_metas(cmds), "ERROR the value would be longer than 16 MB");
}

static void set_unset_echo(void)
{
	const char *const cmds[] = { "set a 'x y' z", "echo :a :'a'", "set b", "echo -n [:b]",
		                     "unset a",       "echo :a",      "set",   NULL };
	CHECK_STR(run_metas(cmds), "x yz 'x yz'\n[]:a\nb = ''\n");
}

/* A file in this case's folder. */
static const char *write_file(const char *name, const char *text)
{
	const char *path = tt_path(name);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static struct script loaded;

/* Load the given file; "OK n" (n steps) or the error. */
static const char *load(const char *file)
{
	static char out[512];
	struct strlist files = { 0 };
	strlist_push(&files, file);
	script_free(&loaded);
	if (script_load(&loaded, &files, NULL, &vars, 1 << 20, err, sizeof err))
		snprintf(out, sizeof out, "%s", err);
	else
		snprintf(out, sizeof out, "OK %zu", loaded.len);
	strlist_free(&files);
	return out;
}

/* The error with the test folder's path replaced by "D". */
static const char *in_dir(const char *msg)
{
	static char out[512];
	size_t n = strlen(tt_path(""));
	char *dst = out;
	for (const char *p = msg; *p && dst < out + sizeof out - 2;)
		if (strncmp(p, tt_path(""), n) == 0) {
			*dst++ = 'D';
			*dst++ = '/';
			p += n;
		} else {
			*dst++ = *p++;
		}
	*dst = '\0';
	return out;
}

static void script_includes(void)
{
	CHECK(mkdir(tt_path("sub"), 0700) == 0);
	write_file("sub/inner.sql", "SELECT 2;\n\\ir leaf.sql\n");
	write_file("sub/leaf.sql", "SELECT 3;\n");
	const char *main_sql =
	        write_file("main.sql", "SELECT 1;\n\\ir sub/inner.sql\n\\include_relative sub/leaf.sql\n");
	CHECK_STR(load(main_sql), "OK 4");
	CHECK_STR(loaded.steps[1].stmt->text, "SELECT 2");
	CHECK_STR(in_dir(loaded.steps[2].file), "D/sub/leaf.sql");
	CHECK(loaded.steps[2].cmd == NULL);
	/* \i is relative to the working folder, not to the including file. */
	write_file("sub/by_cwd.sql", "\\i leaf.sql\n");
	CHECK_STR(in_dir(load(tt_path("sub/by_cwd.sql"))), "D/sub/by_cwd.sql:1: cannot read leaf.sql: No such file or "
	                                                   "directory");
	CHECK_STR(in_dir(load(tt_path("missing.sql"))), "cannot read D/missing.sql: No such file or directory");
	/* The same file twice is fine; a file that includes itself is not. */
	CHECK_STR(load(write_file("twice.sql", "\\ir sub/leaf.sql\n\\ir sub/leaf.sql\n")), "OK 2");
	write_file("a.sql", "SELECT 1;\n\\ir b.sql\n");
	write_file("b.sql", "\n\\ir a.sql\n");
	CHECK_STR(in_dir(load(tt_path("a.sql"))), "D/b.sql:2: include cycle: D/a.sql -> D/b.sql -> D/a.sql");
	CHECK_STR(in_dir(load(write_file("self.sql", "\\ir self.sql\n"))), "D/self.sql:1: include cycle: D/self.sql -> "
	                                                                   "D/self.sql");
	/* Includes in any \if branch are read up front. */
	CHECK_STR(in_dir(load(write_file("branch.sql", "\\if 0\n\\ir nope.sql\n\\endif\n"))),
	          "D/branch.sql:2: cannot "
	          "read D/nope.sql: No such "
	          "file or directory");
	set_var("dir=sub");
	CHECK_STR(load(write_file("var.sql", "\\ir :dir/leaf.sql\n")), "OK 1");
}

static void script_checks_meta_commands(void)
{
	CHECK_STR(in_dir(load(write_file("u.sql", "SELECT 1;\n\n\\copy t from x\n"))),
	          "D/u.sql:3: the psql meta-command "
	          "\\copy is not supported by "
	          "postgres-runner run");
	CHECK_STR(in_dir(load(write_file("q.sql", "\\echo 'abc\n"))),
	          "D/q.sql:1: \\echo: unterminated quoted string in "
	          "the meta-command's arguments");
	CHECK_STR(in_dir(load(write_file("s.sql", "\\set 'a b' 1\n"))), "D/s.sql:1: \\set: invalid variable name: \"a "
	                                                                "b\"");
	CHECK_STR(in_dir(load(write_file("g.sql", "SELECT 1 \\gset a b\n"))),
	          "D/g.sql:1: \\gset: takes at most "
	          "one argument, the prefix of the variable "
	          "names");
	CHECK_STR(in_dir(load(write_file("sp.sql", "SELECT 'x\n"))), "D/sp.sql: line 1: unterminated quoted string");
	CHECK_STR(load(write_file("ok.sql",
	                          "\\set a 1\n\\if :a\n\\echo x\n\\elif 0\n\\else\n\\endif\nSELECT 1 \\gset\n")),
	          "OK 7");
}

static void script_checks_conditionals(void)
{
	CHECK_STR(in_dir(load(write_file("c1.sql", "\\if 1\nSELECT 1;\n"))), "D/c1.sql:1: \\if without \\endif in the "
	                                                                     "same file");
	CHECK_STR(in_dir(load(write_file("c2.sql", "\\endif\n"))),
	          "D/c2.sql:1: \\endif without a matching \\if in this "
	          "file");
	CHECK_STR(in_dir(load(write_file("c3.sql", "\\if 1\n\\else\n\\elif 1\n\\endif\n"))), "D/c3.sql:3: \\elif after "
	                                                                                     "\\else (the \\if is on "
	                                                                                     "line 1)");
	CHECK_STR(in_dir(load(write_file("c4.sql", "\\if 1\n\\else\n\\else\n\\endif\n"))),
	          "D/c4.sql:3: \\else after "
	          "\\else (the \\if is on line "
	          "1)");
	/* An \if must end in the file that opens it, as in psql. */
	write_file("open.sql", "\\if 1\n");
	CHECK_STR(in_dir(load(write_file("c5.sql", "\\ir open.sql\n\\endif\n"))),
	          "D/open.sql:1: \\if without \\endif in "
	          "the same file");
	CHECK_STR(in_dir(load(write_file("c6.sql", "\\if\n\\endif\n"))), "D/c6.sql:1: \\if: missing required "
	                                                                 "argument");
}

static void script_restrict_mode(void)
{
	CHECK_STR(load(write_file("r1.sql", "\\restrict K1\nSELECT 1;\nCOPY t FROM stdin;\n\\echo x\n\\.\n\\unrestrict "
	                                    "K1\n\\echo after\n")),
	          "OK 5");
	CHECK_STR(in_dir(load(write_file("r2.sql", "\\restrict K1\n\\echo x\n\\unrestrict K1\n"))),
	          "D/r2.sql:2: \\echo: "
	          "backslash commands "
	          "are restricted; only "
	          "\\unrestrict is "
	          "allowed");
	CHECK_STR(in_dir(load(write_file("r3.sql", "\\restrict K1\n\\unrestrict K2\n"))), "D/r3.sql:2: \\unrestrict: "
	                                                                                  "wrong key");
	CHECK_STR(in_dir(load(write_file("r4.sql", "\\unrestrict K1\n"))), "D/r4.sql:1: \\unrestrict: not currently in "
	                                                                   "restricted mode");
	CHECK_STR(in_dir(load(write_file("r5.sql", "\\restrict\n"))), "D/r5.sql:1: \\restrict: missing "
	                                                              "required argument");
	CHECK_STR(load(write_file("r6.sql", "\\restrict K1\nSELECT 1;\n")), "OK 2");
}

static void script_from_command_text(void)
{
	struct strlist none = { 0 };
	script_free(&loaded);
	CHECK_INT(script_load(&loaded, &none, "SELECT 1; \\echo x\n\\bogus", &vars, 1 << 20, err, sizeof err), -1);
	CHECK_STR(err, "-c:2: the psql meta-command \\bogus is not supported by postgres-runner run");
	CHECK_INT(script_load(&loaded, &none, "", &vars, 1 << 20, err, sizeof err), 0);
	CHECK_INT(loaded.len, 0);
	script_free(&loaded);
	CHECK_INT(script_load(&loaded, &none, "-- only a comment\n/* and */", &vars, 1 << 20, err, sizeof err), 0);
	CHECK_INT(loaded.len, 0);
	script_free(&loaded);
}

static void script_size_limit(void)
{
	write_file("big.sql", "SELECT 1;\n\\ir big2.sql\n");
	write_file("big2.sql", "SELECT 2;\n");
	struct strlist files = { 0 };
	strlist_push(&files, tt_path("big.sql"));
	script_free(&loaded);
	CHECK_INT(script_load(&loaded, &files, NULL, &vars, 30, err, sizeof err), -1);
	CHECK_STR(in_dir(err), "D/big.sql:2: cannot read D/big2.sql: the scripts are larger than 0 MB together");
	strlist_free(&files);
	script_free(&loaded);
}

static void unterminated_errors_have_line(void)
{
	CHECK_SPLIT_ERROR("SELECT 1;\nSELECT 'abc;\n\n", "line 2: unterminated quoted string");
	CHECK_SPLIT_ERROR("SELECT 1;\n\nSELECT \"abc", "line 3: unterminated quoted identifier");
	CHECK_SPLIT_ERROR("SELECT E'abc\\'", "line 1: unterminated quoted string");
	CHECK_SPLIT_ERROR("\nDO $x$ BEGIN END $y$;", "line 2: unterminated dollar-quoted string");
	CHECK_SPLIT_ERROR("SELECT 1; /* a /* b */\n", "line 1: unterminated /* comment");
	CHECK_SPLIT_ERROR("SELECT 'it''", "line 1: unterminated quoted string");
}

static void statement_text_trimmed(void)
{
	CHECK_SPLIT("  \n\t SELECT 1  \n ;  SELECT\t2\t", "2:SELECT 1|3:SELECT\t2");
}

static void long_and_binary_input(void)
{
	size_t n = 200000;
	char *text = malloc(n + 1);
	for (size_t i = 0; i < n; i++)
		text[i] = "SELECT 1;\n"[i % 10];
	text[n] = '\0';
	CHECK_INT(split(text), 0);
	CHECK_INT(script.len, 20000);
	CHECK_INT(script.stmts[19999].line, 20000);
	free(text);
	CHECK_SPLIT("SELECT '\xff\xfe'; SELECT \xc3\xa9t\xc3\xa9;", "1:SELECT '\xff\xfe'|1:SELECT \xc3\xa9t\xc3\xa9");
}

TT_MAIN(TT_CASE(simple_statements), TT_CASE(trailing_statement_without_semicolon),
        TT_CASE(comment_only_tail_is_no_statement), TT_CASE(semicolons_in_quotes), TT_CASE(semicolons_in_dollar_quotes),
        TT_CASE(semicolons_in_comments), TT_CASE(semicolons_in_parentheses), TT_CASE(begin_atomic_bodies),
        TT_CASE(line_numbers), TT_CASE(variables_plain_literal_identifier), TT_CASE(variables_last_definition_wins),
        TT_CASE(variables_escaped_like_pqescape), TT_CASE(variables_unknown_left_untouched),
        TT_CASE(variables_not_in_casts_slices_or_quotes), TT_CASE(variable_value_may_hold_semicolon),
        TT_CASE(meta_commands_are_items), TT_CASE(gset_ends_a_statement), TT_CASE(copy_from_stdin_data),
        TT_CASE(variable_set_test), TT_CASE(meta_arguments_like_psql), TT_CASE(meta_names_and_checks),
        TT_CASE(psql_booleans), TT_CASE(variables_set_and_unset), TT_CASE(conditionals_follow_psql),
        TT_CASE(set_unset_echo), TT_CASE(set_value_size_is_bounded), TT_CASE(script_includes),
        TT_CASE(script_checks_meta_commands), TT_CASE(script_checks_conditionals), TT_CASE(script_restrict_mode),
        TT_CASE(script_from_command_text), TT_CASE(script_size_limit), TT_CASE(unterminated_errors_have_line),
        TT_CASE(statement_text_trimmed), TT_CASE(long_and_binary_input))
