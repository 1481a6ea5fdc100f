/* Unit tests: Airflow connections (conn.h), URI and JSON forms, conn_load. The examples follow
 * Airflow's "Managing Connections" docs; tests/test_conn_oracle.py checks the same kind of inputs
 * against Airflow's own parser. */
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "exitcode.h"
#include "redact.h"
#include "tt.h"

static struct conn c;
static char err[512];

static int parse(const char *text)
{
	err[0] = '\0';
	return conn_parse(text, &c, err, sizeof err);
}

static const char *extra(const char *key)
{
	static char scratch[64];
	return conn_extra_get(&c, key, scratch, sizeof scratch);
}

#define CHECK_CONN(type, host_, login_, password_, schema_, port_)                                                     \
	do {                                                                                                           \
		CHECK_STR(c.conn_type, type);                                                                          \
		CHECK_STR(c.host, host_);                                                                              \
		CHECK_STR(c.login, login_);                                                                            \
		CHECK_STR(c.password, password_);                                                                      \
		CHECK_STR(c.schema, schema_);                                                                          \
		CHECK_INT(c.port, port_);                                                                              \
	} while (0)

static int extra_count(void)
{
	return cJSON_GetArraySize(c.extra);
}

/* The URI of the docs, with a real port. */
static void uri_docs_example(void)
{
	CHECK_INT(parse("my-conn-type://my-login:my-password@my-host:5432/my-schema?param1=val1&param2=val2"), 0);
	CHECK_CONN("my_conn_type", "my-host", "my-login", "my-password", "my-schema", 5432);
	CHECK_INT(extra_count(), 2);
	CHECK_STR(extra("param1"), "val1");
	CHECK_STR(extra("param2"), "val2");
	conn_free(&c);
}

/* The docs' placeholder form has "port" as the port: not a number, so an error. */
static void uri_docs_placeholder_port(void)
{
	CHECK_INT(parse("my-conn-type://login:password@host:port/schema?param1=val1&param2=val2"), -1);
	CHECK_CONTAINS(err, "port");
	CHECK_NOT_CONTAINS(err, "password");
}

static void uri_postgresql_is_postgres(void)
{
	CHECK_INT(parse("postgresql://user:p%40ss@host/db"), 0);
	CHECK_CONN("postgres", "host", "user", "p@ss", "db", -1);
	CHECK_INT(extra_count(), 0);
	conn_free(&c);
	CHECK_INT(parse("POSTGRESQL://h"), 0);
	CHECK_STR(c.conn_type, "postgres");
	conn_free(&c);
	CHECK_INT(parse("google-cloud-platform://"), 0);
	CHECK_STR(c.conn_type, "google_cloud_platform");
	conn_free(&c);
}

static void uri_encoded_password(void)
{
	CHECK_INT(parse("postgres://us%20er:a%2Fb%3Ac%40d%25e%3Ff%23g%2Bh@host:5432/db"), 0);
	CHECK_CONN("postgres", "host", "us er", "a/b:c@d%e?f#g+h", "db", 5432);
	conn_free(&c);
	/* A bad escape stays as it is, like urllib.parse.unquote. */
	CHECK_INT(parse("postgres://u:100%25%zz%4@host/db"), 0);
	CHECK_STR(c.password, "100%%zz%4");
	conn_free(&c);
}

static void uri_plus_in_userinfo_and_query(void)
{
	CHECK_INT(parse("postgres://us+er:pa+ss@host/my+db?opt=a+b&k%2Bx=c%2Bd"), 0);
	CHECK_STR(c.login, "us+er");
	CHECK_STR(c.password, "pa+ss");
	CHECK_STR(c.schema, "my+db");
	CHECK_STR(extra("opt"), "a b");
	CHECK_STR(extra("k+x"), "c+d");
	conn_free(&c);
}

static void uri_password_with_at_and_colon(void)
{
	/* The userinfo ends at the last '@'; the password starts after the first ':'. */
	CHECK_INT(parse("postgres://user:p@ss:w@host:1/db"), 0);
	CHECK_CONN("postgres", "host", "user", "p@ss:w", "db", 1);
	conn_free(&c);
}

static void uri_extra_json(void)
{
	CHECK_INT(
	        parse("my-conn-type://@:1234?__extra__=%7B%22my_val%22%3A+%5B%22list%22%2C+%22of%22%2C+%22values%22%5D"
	              "%2C+%22extra%22%3A+%7B%22nested%22%3A+%7B%22json%22%3A+%22val%22%7D%7D%7D"),
	        0);
	CHECK_CONN("my_conn_type", "", "", NULL, "", 1234);
	cJSON *list = cJSON_GetObjectItemCaseSensitive(c.extra, "my_val");
	CHECK(cJSON_IsArray(list) && cJSON_GetArraySize(list) == 3);
	cJSON *nested = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c.extra, "extra"), "nested");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(nested, "json")), "val");
	conn_free(&c);
}

static void uri_extra_json_wins_over_params(void)
{
	CHECK_INT(parse("postgres://h/db?sslmode=disable&__extra__=%7B%22sslmode%22%3A%22require%22%7D"), 0);
	CHECK_STR(extra("sslmode"), "require");
	CHECK_INT(extra_count(), 1);
	conn_free(&c);
	/* An empty __extra__ is no extra, as in Airflow. */
	CHECK_INT(parse("postgres://h/db?__extra__="), 0);
	CHECK_INT(extra_count(), 0);
	conn_free(&c);
}

static void uri_extra_not_json_refused(void)
{
	CHECK_INT(parse("postgres://u:topsecret1@h/db?__extra__=sslmode%3Dverify-full"), -1);
	CHECK_CONTAINS(err, "extra");
	CHECK_NOT_CONTAINS(err, "topsecret1");
	CHECK_INT(parse("postgres://h/db?__extra__=%5B1%2C2%5D"), -1);
	CHECK_INT(parse("postgres://h/db?__extra__=%7B%22a%22%3A1"), -1);
}

static void uri_extra_duplicate_keys_last_wins(void)
{
	CHECK_INT(parse("postgres://h/db?__extra__=%7B%22a%22%3A1%2C%22a%22%3A2%7D"), 0);
	CHECK_STR(extra("a"), "2");
	CHECK_INT(extra_count(), 1);
	conn_free(&c);
}

static void uri_query_params_are_strings(void)
{
	/* As the Task SDK's Connection.from_uri: values stay strings, repeated keys keep the last. */
	CHECK_INT(parse("postgres://h/db?connect_timeout=10&a=1&a=2&flag&e=&n=null&x=%26%3D"), 0);
	cJSON *t = cJSON_GetObjectItemCaseSensitive(c.extra, "connect_timeout");
	CHECK(cJSON_IsString(t));
	CHECK_STR(extra("connect_timeout"), "10");
	CHECK_STR(extra("a"), "2");
	CHECK_STR(extra("flag"), "");
	CHECK_STR(extra("e"), "");
	CHECK_STR(extra("n"), "null");
	CHECK_STR(extra("x"), "&=");
	CHECK_INT(extra_count(), 6);
	conn_free(&c);
}

static void uri_fragment_dropped(void)
{
	CHECK_INT(parse("postgres://h/db?a=1#frag?b=2"), 0);
	CHECK_STR(c.schema, "db");
	CHECK_STR(extra("a"), "1");
	CHECK(extra("b") == NULL);
	conn_free(&c);
}

static void uri_host_with_protocol(void)
{
	CHECK_INT(parse("http://https://example.com:8443/api"), 0);
	CHECK_CONN("http", "https://example.com", NULL, NULL, "api", 8443);
	conn_free(&c);
	CHECK_INT(parse("http://HTTPS://Example.COM"), 0);
	CHECK_STR(c.host, "https://example.com");
	conn_free(&c);
	/* The protocol part may not hold a login or a port. */
	CHECK_INT(parse("http://user:pw@https://example.com"), -1);
	CHECK_INT(parse("a://b://c://d"), -1);
	CHECK_CONTAINS(err, "://");
}

static void uri_socket_path_host(void)
{
	CHECK_INT(parse("postgres://%2Ftmp%2Fpg/db"), 0);
	CHECK_CONN("postgres", "/tmp/pg", NULL, NULL, "db", -1);
	conn_free(&c);
	CHECK_INT(parse("postgres://u:p@%2Fvar%2Frun%2FPostgreSQL:5433/db"), 0);
	CHECK_CONN("postgres", "/var/run/PostgreSQL", "u", "p", "db", 5433);
	conn_free(&c);
	CHECK_INT(parse("fs://%2Fpath%2Fto%2Ffile"), 0);
	CHECK_STR(c.host, "/path/to/file");
	conn_free(&c);
}

static void uri_ipv6(void)
{
	CHECK_INT(parse("postgres://[::1]:5432/db"), 0);
	CHECK_CONN("postgres", "::1", NULL, NULL, "db", 5432);
	conn_free(&c);
	CHECK_INT(parse("postgres://u@[FE80::A%25ETH0]/db"), 0);
	CHECK_STR(c.host, "fe80::a%ETH0");
	conn_free(&c);
	CHECK_INT(parse("postgres://[::1/db"), -1);
	CHECK_INT(parse("postgres://::1]/db"), -1);
	CHECK_INT(parse("postgres://[not-an-ip]/db"), -1);
	CHECK_INT(parse("postgres://[127.0.0.1]/db"), -1);
}

static void uri_missing_parts(void)
{
	CHECK_INT(parse("postgres://"), 0);
	CHECK_CONN("postgres", "", NULL, NULL, "", -1);
	CHECK_INT(extra_count(), 0);
	conn_free(&c);
	CHECK_INT(parse("postgres://user@host"), 0);
	CHECK_CONN("postgres", "host", "user", NULL, "", -1);
	conn_free(&c);
	CHECK_INT(parse("postgres://host:/"), 0);
	CHECK_CONN("postgres", "host", NULL, NULL, "", -1);
	conn_free(&c);
	CHECK_INT(parse("//host/db"), 0);
	CHECK_CONN("", "host", NULL, NULL, "db", -1);
	conn_free(&c);
}

static void uri_host_lowercased(void)
{
	CHECK_INT(parse("postgres://User:PassWord@DB.Example.COM:5432/MyDB"), 0);
	CHECK_CONN("postgres", "db.example.com", "User", "PassWord", "MyDB", 5432);
	conn_free(&c);
}

static void uri_bad_port(void)
{
	static const char *const bad[] = { "postgres://u:secretpw@h:x/db", "postgres://h:70000/db",
		                           "postgres://h:-1/db", "postgres://h:1.5/db", "postgres://h: 1/db" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		if (parse(bad[i]) != -1)
			tt_report(__FILE__, __LINE__, "%s parsed", bad[i]);
		CHECK_CONTAINS(err, "port");
		CHECK_NOT_CONTAINS(err, "secretpw");
	}
	CHECK_INT(parse("postgres://h:65535/db"), 0);
	CHECK_INT(c.port, 65535);
	conn_free(&c);
	CHECK_INT(parse("postgres://h:0/db"), 0);
	CHECK_INT(c.port, 0);
	conn_free(&c);
}

static void uri_blanks_and_controls(void)
{
	/* urlsplit drops leading blanks and every tab/CR/LF; conn_parse also trims the end. */
	CHECK_INT(parse("  postgres://ho\tst/d\nb\r\n"), 0);
	CHECK_CONN("postgres", "host", NULL, NULL, "db", -1);
	conn_free(&c);
}

static void uri_schema_decoded(void)
{
	CHECK_INT(parse("postgres://h/my%20db%2Fx/y"), 0);
	CHECK_STR(c.schema, "my db/x/y");
	conn_free(&c);
}

static void uri_password_redacted(void)
{
	CHECK_INT(parse("postgres://u:Sup3r%2Fsecret@h/db"), 0);
	char *masked = redact_dup("pw=Sup3r/secret url=postgres://u:Sup3r%2Fsecret@h/db");
	CHECK_STR(masked, "pw=*** url=postgres://u:***@h/db");
	free(masked);
	conn_free(&c);
}

static void json_docs_example(void)
{
	CHECK_INT(parse("{\n  \"conn_type\": \"my-conn-type\",\n  \"login\": \"my-login\",\n  \"password\": "
	                "\"my-password\",\n"
	                "  \"host\": \"my-host\",\n  \"port\": 1234,\n  \"schema\": \"my-schema\",\n"
	                "  \"extra\": {\n    \"param1\": \"val1\",\n    \"param2\": \"val2\"\n  }\n}"),
	          0);
	CHECK_CONN("my_conn_type", "my-host", "my-login", "my-password", "my-schema", 1234);
	CHECK_STR(extra("param1"), "val1");
	CHECK_STR(extra("param2"), "val2");
	conn_free(&c);
}

static void json_port_number_or_string(void)
{
	CHECK_INT(parse(" {\"conn_type\": \"postgresql\", \"host\": \"H\", \"port\": \"5432\"}"), 0);
	CHECK_CONN("postgres", "H", NULL, NULL, "", 5432);
	conn_free(&c);
	CHECK_INT(parse("{\"port\": 6543}"), 0);
	CHECK_INT(c.port, 6543);
	conn_free(&c);
	CHECK_INT(parse("{\"port\": \"\"}"), 0);
	CHECK_INT(c.port, -1);
	conn_free(&c);
	CHECK_INT(parse("{\"port\": 0}"), 0); /* Airflow: `if port:` */
	CHECK_INT(c.port, -1);
	conn_free(&c);
	CHECK_INT(parse("{\"port\": \"abc\"}"), -1);
	CHECK_CONTAINS(err, "port");
	CHECK_INT(parse("{\"port\": 5432.5}"), -1); /* Airflow truncates; we refuse */
	CHECK_INT(parse("{\"port\": [1]}"), -1);
	/* Airflow takes any integer in the JSON form; we keep the URI form's 0-65535. */
	CHECK_INT(parse("{\"port\": 69966996}"), -1);
	CHECK_CONTAINS(err, "out of range");
	CHECK_INT(parse("{\"port\": -5}"), -1);
	CHECK_INT(parse("{\"port\": \"-1\"}"), -1);
	CHECK_INT(parse("{\"port\": 1e300}"), -1);
	CHECK_INT(parse("{\"port\": \"99999999999999999999999\"}"), -1);
	CHECK_INT(parse("{\"port\": 65535}"), 0);
	CHECK_INT(c.port, 65535);
	conn_free(&c);
}

static void json_extra_object_or_string(void)
{
	CHECK_INT(parse("{\"conn_type\": \"postgres\", \"extra\": {\"sslmode\": \"require\", \"n\": 5, \"b\": true}}"),
	          0);
	CHECK_STR(extra("sslmode"), "require");
	CHECK_STR(extra("n"), "5");
	CHECK_STR(extra("b"), "true");
	conn_free(&c);
	CHECK_INT(parse("{\"conn_type\": \"postgres\", \"extra\": \"{\\\"sslmode\\\": \\\"verify-full\\\"}\"}"), 0);
	CHECK_STR(extra("sslmode"), "verify-full");
	conn_free(&c);
	CHECK_INT(parse("{\"extra\": \"\"}"), 0);
	CHECK_INT(extra_count(), 0);
	conn_free(&c);
	CHECK_INT(parse("{\"extra\": []}"), 0); /* falsy: ignored, as Airflow */
	CHECK_INT(extra_count(), 0);
	conn_free(&c);
}

static void json_extra_refused(void)
{
	CHECK_INT(parse("{\"password\": \"pw-secret-9\", \"extra\": \"sslmode=require\"}"), -1);
	CHECK_CONTAINS(err, "extra");
	CHECK_NOT_CONTAINS(err, "pw-secret-9");
	CHECK_INT(parse("{\"extra\": [1]}"), -1);
	CHECK_INT(parse("{\"extra\": 5}"), -1);
}

static void json_unknown_key(void)
{
	CHECK_INT(parse("{\"conn_type\": \"postgres\", \"hostname\": \"h\"}"), -1);
	CHECK_CONTAINS(err, "unknown key \"hostname\"");
	CHECK_INT(parse("{\"description\": \"ok\", \"login\": null, \"password\": null}"), 0);
	CHECK_CONN("", "", NULL, NULL, "", -1);
	conn_free(&c);
}

static void json_wrong_types_and_syntax(void)
{
	CHECK_INT(parse("{\"host\": 5}"), -1);
	CHECK_CONTAINS(err, "\"host\" must be a string");
	CHECK_INT(parse("{\"password\": \"abcdefgh\", "), -1);
	CHECK_NOT_CONTAINS(err, "abcdefgh");
	CHECK_INT(parse("{} x"), -1);
}

static void json_keeps_host_case_and_duplicates(void)
{
	CHECK_INT(
	        parse("{\"host\": \"HOST\", \"host\": \"Other\", \"extra\": {\"a\": 1, \"a\": {\"b\": 1, \"b\": 2}}}"),
	        0);
	CHECK_STR(c.host, "Other");
	CHECK_INT(extra_count(), 1);
	cJSON *a = cJSON_GetObjectItemCaseSensitive(c.extra, "a");
	CHECK_INT(cJSON_GetArraySize(a), 1);
	CHECK_INT(cJSON_GetObjectItemCaseSensitive(a, "b")->valueint, 2);
	conn_free(&c);
}

static void to_json_masks_password(void)
{
	CHECK_INT(parse("postgres://u:pw-long-1@h:5/db?a=b"), 0);
	cJSON *j = conn_to_json(&c, 0);
	char *text = cJSON_PrintUnformatted(j);
	CHECK_STR(text,
	          "{\"conn_type\":\"postgres\",\"host\":\"h\",\"login\":\"u\",\"password\":\"***\",\"schema\":\"db\","
	          "\"port\":5,\"extra\":{\"a\":\"b\"}}");
	free(text);
	cJSON_Delete(j);
	j = conn_to_json(&c, 1);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "password")), "pw-long-1");
	cJSON_Delete(j);
	conn_free(&c);
	CHECK_INT(parse("postgres://h"), 0);
	j = conn_to_json(&c, 0);
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "password")));
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "port")));
	cJSON_Delete(j);
	conn_free(&c);
}

static void extra_get_formats(void)
{
	CHECK_INT(parse("{\"extra\": {\"i\": 42, \"f\": 1.5, \"t\": false, \"s\": \"x\", \"o\": {}, \"z\": null, "
	                "\"big\": 1e300, \"neg\": -7}}"),
	          0);
	CHECK_STR(extra("i"), "42");
	CHECK_STR(extra("big"), "1.0000000000000001e+300");
	CHECK_STR(extra("neg"), "-7");
	CHECK_STR(extra("f"), "1.5");
	CHECK_STR(extra("t"), "false");
	CHECK_STR(extra("s"), "x");
	CHECK(extra("o") == NULL);
	CHECK(extra("z") == NULL);
	CHECK(extra("missing") == NULL);
	conn_free(&c);
}

static void load_from_env(void)
{
	setenv("AIRFLOW_CONN_MY_DB", "postgresql://u:envpass1@h/db", 1);
	CHECK_INT(conn_load("my_db", NULL, &c, err, sizeof err), 0);
	CHECK_CONN("postgres", "h", "u", "envpass1", "db", -1);
	conn_free(&c);
	setenv("AIRFLOW_CONN_JSONC", "  {\"conn_type\": \"postgres\", \"host\": \"j\"}\n", 1);
	CHECK_INT(conn_load("jsonc", "", &c, err, sizeof err), 0);
	CHECK_STR(c.host, "j");
	conn_free(&c);
}

static void load_from_env_file(void)
{
	const char *path = tt_path("conn");
	tt_write(path, "postgres://u:filepass1@filehost/db\n");
	setenv("AIRFLOW_CONN_FROMFILE_FILE", path, 1);
	CHECK_INT(conn_load("FromFile", NULL, &c, err, sizeof err), 0);
	CHECK_CONN("postgres", "filehost", "u", "filepass1", "db", -1);
	conn_free(&c);
	/* The password of the connection text is registered for redaction. */
	char *masked = redact_dup("filepass1");
	CHECK_STR(masked, "***");
	free(masked);
}

static void load_from_conn_file(void)
{
	const char *path = tt_path("mounted.json");
	tt_write(path, "{\"conn_type\": \"postgres\", \"host\": \"mounted\", \"port\": 5433}\n");
	setenv("AIRFLOW_CONN_X", "postgres://env/db", 1);
	CHECK_INT(conn_load("x", path, &c, err, sizeof err), 0); /* the file wins */
	CHECK_STR(c.host, "mounted");
	CHECK_INT(c.port, 5433);
	conn_free(&c);
}

static void load_missing_is_usage(void)
{
	unsetenv("AIRFLOW_CONN_NOPE");
	CHECK_INT(conn_load("nope", NULL, &c, err, sizeof err), TR_EXIT_USAGE);
	CHECK_CONTAINS(err, "AIRFLOW_CONN_NOPE");
	CHECK_CONTAINS(err, "AIRFLOW_CONN_NOPE_FILE");
	CHECK_INT(conn_load(NULL, NULL, &c, err, sizeof err), TR_EXIT_USAGE);
	CHECK_CONTAINS(err, "--conn");
	CHECK_INT(conn_load("x", tt_path("missing.json"), &c, err, sizeof err), TR_EXIT_USAGE);
	CHECK_CONTAINS(err, "missing.json");
	setenv("AIRFLOW_CONN_BADFILE_FILE", tt_path("missing"), 1);
	CHECK_INT(conn_load("badfile", NULL, &c, err, sizeof err), TR_EXIT_USAGE);
	CHECK_CONTAINS(err, "AIRFLOW_CONN_BADFILE_FILE");
}

/* An empty connection is a mistake (a missing secret), never "a local socket with defaults". */
static void load_empty_is_usage(void)
{
	setenv("AIRFLOW_CONN_EMPTY", "", 1);
	CHECK_INT(conn_load("empty", NULL, &c, err, sizeof err), TR_EXIT_USAGE);
	CHECK_CONTAINS(err, "AIRFLOW_CONN_EMPTY is set but empty");
	unsetenv("AIRFLOW_CONN_EMPTY");
	setenv("AIRFLOW_CONN_EMPTY_FILE", "", 1);
	CHECK_INT(conn_load("empty", NULL, &c, err, sizeof err), TR_EXIT_USAGE);
	CHECK_CONTAINS(err, "AIRFLOW_CONN_EMPTY_FILE is set but empty");
	const char *path = tt_path("empty");
	tt_write(path, "\n");
	setenv("AIRFLOW_CONN_EMPTY_FILE", path, 1);
	CHECK_INT(conn_load("empty", NULL, &c, err, sizeof err), TR_EXIT_USAGE);
	CHECK_CONTAINS(err, "AIRFLOW_CONN_EMPTY_FILE");
	CHECK_CONTAINS(err, "empty");
	CHECK_INT(conn_load(NULL, path, &c, err, sizeof err), TR_EXIT_USAGE);
	CHECK_CONTAINS(err, "--conn-file");
	CHECK_CONTAINS(err, "empty");
}

static void load_bad_text_never_shows_password(void)
{
	setenv("AIRFLOW_CONN_BAD", "postgres://user:Pa55word-xyz@host:bad/db", 1);
	CHECK_INT(conn_load("bad", NULL, &c, err, sizeof err), TR_EXIT_USAGE);
	CHECK_CONTAINS(err, "AIRFLOW_CONN_BAD");
	CHECK_CONTAINS(err, "port");
	CHECK_NOT_CONTAINS(err, "Pa55word");
	setenv("AIRFLOW_CONN_BADJ", "{\"password\": \"Pa55word-xyz\", \"port\": \"x\"}", 1);
	CHECK_INT(conn_load("badj", NULL, &c, err, sizeof err), TR_EXIT_USAGE);
	CHECK_NOT_CONTAINS(err, "Pa55word");
}

TT_MAIN(TT_CASE(uri_docs_example), TT_CASE(uri_docs_placeholder_port), TT_CASE(uri_postgresql_is_postgres),
        TT_CASE(uri_encoded_password), TT_CASE(uri_plus_in_userinfo_and_query), TT_CASE(uri_password_with_at_and_colon),
        TT_CASE(uri_extra_json), TT_CASE(uri_extra_json_wins_over_params), TT_CASE(uri_extra_not_json_refused),
        TT_CASE(uri_extra_duplicate_keys_last_wins), TT_CASE(uri_query_params_are_strings),
        TT_CASE(uri_fragment_dropped), TT_CASE(uri_host_with_protocol), TT_CASE(uri_socket_path_host),
        TT_CASE(uri_ipv6), TT_CASE(uri_missing_parts), TT_CASE(uri_host_lowercased), TT_CASE(uri_bad_port),
        TT_CASE(uri_blanks_and_controls), TT_CASE(uri_schema_decoded), TT_CASE(uri_password_redacted),
        TT_CASE(json_docs_example), TT_CASE(json_port_number_or_string), TT_CASE(json_extra_object_or_string),
        TT_CASE(json_extra_refused), TT_CASE(json_unknown_key), TT_CASE(json_wrong_types_and_syntax),
        TT_CASE(json_keeps_host_case_and_duplicates), TT_CASE(to_json_masks_password), TT_CASE(extra_get_formats),
        TT_CASE(load_from_env), TT_CASE(load_empty_is_usage), TT_CASE(load_from_env_file), TT_CASE(load_from_conn_file),
        TT_CASE(load_missing_is_usage), TT_CASE(load_bad_text_never_shows_password))
