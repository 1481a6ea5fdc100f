/* Unit tests: postgres-runner's psql-compatible statement splitter and variables (sqlsplit.h). */
#include <stdlib.h>
#include <string.h>

#include "sqlsplit.h"
#include "tt.h"

static struct sql_script script;
static struct strlist vars;
static char err[256];

static int split(const char *text)
{
	sql_script_free(&script);
	return sql_split(text, &vars, &script, err, sizeof err);
}

static void set_var(const char *item)
{
	strlist_push(&vars, item);
}

/* The statements as "line:text|line:text|...", for compact expectations. */
static const char *joined(void)
{
	static char out[4096];
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; i < script.len && n < sizeof out; i++)
		n += (size_t)snprintf(out + n, sizeof out - n, "%s%d:%s", i ? "|" : "", script.stmts[i].line,
		                      script.stmts[i].text);
	return out;
}

#define CHECK_SPLIT(text, expect)                                                                                      \
	do {                                                                                                           \
		CHECK_INT(split(text), 0);                                                                             \
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
	CHECK_SPLIT("SELECT :\"col\" FROM :tbl WHERE d = :'day';",
	            "1:SELECT \"Event Name\" FROM events WHERE d = '2024-01-01'");
	CHECK_INT(script.unknown_vars.len, 0);
}

static void variables_last_definition_wins(void)
{
	set_var("n=1");
	set_var("n=2");
	set_var("empty=");
	CHECK_SPLIT("SELECT :n, :'empty', :\"n\";", "1:SELECT 2, '', \"2\"");
	CHECK_STR(sql_var_get(&vars, "n", 1), "2");
	CHECK(sql_var_get(&vars, "nn", 2) == NULL);
	CHECK(sql_var_get(NULL, "n", 1) == NULL);
}

static void variables_escaped_like_pqescape(void)
{
	set_var("q=it's");
	set_var("b=back\\slash 'q'");
	set_var("i=we\"ird");
	CHECK_SPLIT("SELECT :'q', :'b', :\"i\";", "1:SELECT 'it''s',  E'back\\\\slash ''q''', \"we\"\"ird\"");
}

static void variables_unknown_left_untouched(void)
{
	set_var("known=1");
	CHECK_SPLIT("SELECT :unknown, :'other', :\"third\", :unknown, :known;",
	            "1:SELECT :unknown, :'other', :\"third\", :unknown, 1");
	CHECK_INT(script.unknown_vars.len, 3);
	CHECK_STR(script.unknown_vars.items[0], "unknown");
	CHECK_STR(script.unknown_vars.items[1], "other");
	CHECK_STR(script.unknown_vars.items[2], "third");
}

static void variables_not_in_casts_slices_or_quotes(void)
{
	set_var("int=XX");
	set_var("n=3"); /* a[1:n] is psql's a[13] when n is set */
	set_var("x=YY");
	CHECK_SPLIT("SELECT '1'::int, a[1:2], a[1:n], ':x', \":x\", $$ :x $$, E':x' -- :x\n/* :x */;",
	            "1:SELECT '1'::int, a[1:2], a[13], ':x', \":x\", $$ :x $$, E':x' -- :x\n/* :x */");
	CHECK_INT(script.unknown_vars.len, 0);
	CHECK_SPLIT("SELECT x::int, x :: int, :x::int", "1:SELECT x::int, x :: int, YY::int");
	CHECK_SPLIT("SELECT a := 1, ':' , : , :9, :$x", "1:SELECT a := 1, ':' , : , :9, :$x");
	/* As psql: ":'" without its closing quote leaves the quote to start a string. */
	CHECK_SPLIT_ERROR("SELECT :'unterminated", "line 1: unterminated quoted string");
}

static void variable_value_may_hold_semicolon(void)
{
	set_var("v=1; DROP TABLE t");
	CHECK_SPLIT("SELECT :v; SELECT :'v';", "1:SELECT 1; DROP TABLE t|1:SELECT '1; DROP TABLE t'");
}

static void meta_commands_refused(void)
{
	CHECK_SPLIT_ERROR(
	        "SELECT 1;\n\\set x 1\nSELECT :x;",
	        "line 2: psql meta-commands (lines with '\\') are not supported: the script must be plain SQL");
	CHECK_SPLIT_ERROR("SELECT 1 \\gexec", "line 1: psql meta-commands (lines with '\\') are not supported: the "
	                                      "script must be plain SQL");
	/* Inside quotes a backslash is data. */
	CHECK_SPLIT("SELECT '\\n', $$\\$$, \"a\\b\";", "1:SELECT '\\n', $$\\$$, \"a\\b\"");
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
        TT_CASE(meta_commands_refused), TT_CASE(unterminated_errors_have_line), TT_CASE(statement_text_trimmed),
        TT_CASE(long_and_binary_input))
