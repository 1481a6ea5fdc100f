/* Unit tests: dbt-runner's run_results.json summary (runners/dbt-runner/runresults.c) and its
 * profiles.yml writer (dbtprofile.c). The run_results documents follow dbt 1.10's schema (v6). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "dbtprofile.h"
#include "runresults.h"
#include "tt.h"

static char *summary_text(const char *doc)
{
	char err[200] = "";
	cJSON *s = runresults_summary(doc, strlen(doc), err, sizeof err);
	if (!s)
		return strdup(err);
	char *text = cJSON_PrintUnformatted(s);
	cJSON_Delete(s);
	return text;
}

#define META                                                                                                           \
	"\"metadata\": {\"dbt_schema_version\": \"https://schemas.getdbt.com/dbt/run-results/v6.json\", "              \
	"\"dbt_version\": \"1.10.15\", \"invocation_id\": \"666f342b-4944\", \"env\": {}}, "

static void counts_statuses_and_names_failures(void)
{
	char *s =
	        summary_text("{" META "\"elapsed_time\": 4.5, \"results\": ["
	                     "{\"status\": \"success\", \"unique_id\": \"model.p.a\", \"message\": \"SELECT 1\"},"
	                     "{\"status\": \"pass\", \"unique_id\": \"test.p.t1\", \"message\": null},"
	                     "{\"status\": \"fail\", \"unique_id\": \"test.p.known\", "
	                     "\"message\": \"Got 1 result, configured to fail if != 0\\nmore\"},"
	                     "{\"status\": \"error\", \"unique_id\": \"model.p.b\", \"message\": \"Database Error\\n  "
	                     "relation does not exist\"},"
	                     "{\"status\": \"warn\", \"unique_id\": \"test.p.w\", \"message\": \"Got 2\"},"
	                     "{\"status\": \"skipped\", \"unique_id\": \"model.p.c\", \"message\": null},"
	                     "{\"status\": \"no-op\", \"unique_id\": \"model.p.d\"}]}");
	CHECK_STR(s,
	          "{\"dbt_version\":\"1.10.15\",\"invocation_id\":\"666f342b-4944\",\"elapsed_s\":4.5,\"nodes\":7,"
	          "\"counts\":{\"success\":2,\"error\":1,\"fail\":1,\"warn\":1,\"skipped\":1,\"no-op\":1},"
	          "\"failing_nodes\":[{\"unique_id\":\"test.p.known\",\"message\":\"Got 1 result, configured to fail "
	          "if != 0\"},{\"unique_id\":\"model.p.b\",\"message\":\"Database Error\"}]}");
	free(s);
}

static void freshness_results_use_error_and_runtime_error(void)
{
	char *s = summary_text("{" META "\"elapsed_time\": 1, \"results\": ["
	                       "{\"status\": \"pass\", \"unique_id\": \"source.p.raw.a\"},"
	                       "{\"status\": \"runtime error\", \"unique_id\": \"source.p.raw.b\", "
	                       "\"error\": \"column x does not exist\"}]}");
	CHECK_CONTAINS(s, "\"counts\":{\"success\":1,\"error\":1,\"fail\":0,\"warn\":0,\"skipped\":0}");
	CHECK_CONTAINS(s, "{\"unique_id\":\"source.p.raw.b\",\"message\":\"column x does not exist\"}");
	free(s);
}

static void failing_nodes_stop_at_20(void)
{
	char doc[8192] = "{\"results\": [";
	for (int i = 0; i < 25; i++)
		snprintf(doc + strlen(doc), sizeof doc - strlen(doc),
		         "%s{\"status\": \"error\", \"unique_id\": \"m.%d\"}", i ? "," : "", i);
	strcat(doc, "]}");
	char err[100];
	cJSON *s = runresults_summary(doc, strlen(doc), err, sizeof err);
	CHECK(s != NULL);
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(s, "failing_nodes")), RUNRESULTS_MAX_FAILING);
	CHECK_INT(cJSON_GetObjectItem(s, "failing_nodes_omitted")->valueint, 5);
	CHECK_INT(cJSON_GetObjectItem(cJSON_GetObjectItem(s, "counts"), "error")->valueint, 25);
	CHECK(cJSON_GetObjectItem(s, "dbt_version") == NULL);
	cJSON_Delete(s);
}

static void long_message_is_cut_on_a_character(void)
{
	char doc[2048], msg[700] = "";
	for (int i = 0; i < 200; i++)
		strcat(msg, "\xc3\xa9"); /* 400 bytes of "é" */
	snprintf(doc, sizeof doc, "{\"results\": [{\"status\": \"fail\", \"unique_id\": \"t\", \"message\": \"x%s\"}]}",
	         msg);
	char err[100];
	cJSON *s = runresults_summary(doc, strlen(doc), err, sizeof err);
	const char *m = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(s, "failing_nodes"), 0), "message")
	                        ->valuestring;
	CHECK_INT(strlen(m), 299); /* "x" and 149 whole characters */
	cJSON_Delete(s);
}

static void bad_documents_are_errors(void)
{
	char *s = summary_text("{\"results\": ");
	CHECK_STR(s, "it is not valid JSON");
	free(s);
	s = summary_text("{\"metadata\": {}}");
	CHECK_STR(s, "it has no results list");
	free(s);
	s = summary_text("[1, 2]");
	CHECK_STR(s, "it has no results list");
	free(s);
	/* odd nodes still count, under what they say or "unknown" */
	s = summary_text("{\"results\": [1, {\"status\": 7}, {\"status\": \"fail\", \"unique_id\": 3}]}");
	CHECK_CONTAINS(s, "\"unknown\":2");
	CHECK_CONTAINS(s, "{\"unique_id\":\"\",\"message\":\"\"}");
	free(s);
}

static char *profile_of(const char *uri, const struct profile_opts *o, struct profile *p, int *rc)
{
	struct conn c;
	char err[300] = "";
	memset(&c, 0, sizeof c);
	if (conn_parse(uri, &c, err, sizeof err) != 0)
		return strdup(err);
	*rc = profile_build(&c, o, p, err, sizeof err);
	conn_free(&c);
	return *rc ? strdup(err) : strdup(p->yaml);
}

static const struct profile_opts defaults = { .profile_name = "tinyrun", .target = "dev" };

static void postgres_profile_keeps_the_password_out(void)
{
	struct profile p;
	int rc = -1;
	struct profile_opts o = {
		.profile_name = "tinyrun", .target = "prod", .threads = 4, .application_name = "tinyrun/dag/task"
	};
	char *y = profile_of("postgres://etl:s%40cret-pw@db.example.com:6432/dwh?sslmode=verify-full&schema=marts&"
	                     "connect_timeout=10&cursor=x",
	                     &o, &p, &rc);
	CHECK_INT(rc, 0);
	CHECK_STR(y, "# written by dbt-runner; secrets are in dbt's environment only\n"
	             "\"tinyrun\":\n  target: \"prod\"\n  outputs:\n    \"prod\":\n"
	             "      type: postgres\n      threads: 4\n"
	             "      host: \"db.example.com\"\n      port: 6432\n      dbname: \"dwh\"\n"
	             "      schema: \"marts\"\n      user: \"etl\"\n"
	             "      password: \"{{ env_var('DBT_ENV_SECRET_PASSWORD') }}\"\n"
	             "      sslmode: \"verify-full\"\n      connect_timeout: 10\n"
	             "      application_name: \"tinyrun/dag/task\"\n");
	CHECK_INT(p.env.len, 1);
	CHECK_STR(p.env.items[0], "DBT_ENV_SECRET_PASSWORD=s@cret-pw");
	profile_free(&p);
	free(y);
}

static void values_are_quoted_and_jinja_refused(void)
{
	struct profile p;
	int rc = -1;
	char *y = profile_of("{\"conn_type\": \"postgres\", \"host\": \"h\", \"login\": \"a\\\"b\\\\c\\nd\", "
	                     "\"schema\": \"db\"}",
	                     &defaults, &p, &rc);
	CHECK_INT(rc, 0);
	CHECK_CONTAINS(y, "      user: \"a\\\"b\\\\c\\x0ad\"\n");
	CHECK_CONTAINS(y, "      port: 5432\n      dbname: \"db\"\n      schema: \"public\"\n");
	CHECK_NOT_CONTAINS(y, "password");
	profile_free(&p);
	free(y);
	y = profile_of("postgres://u:pw@h/db?search_path=%7B%7B%20x%20%7D%7D", &defaults, &p, &rc);
	CHECK_INT(rc, 2);
	CHECK_CONTAINS(y, "search_path holds '{{'");
	free(y);
	y = profile_of("postgres://u:pw@h/db?connect_timeout=soon", &defaults, &p, &rc);
	CHECK_INT(rc, 2);
	CHECK_STR(y, "the connection's extra connect_timeout must be a whole number");
	free(y);
}

static void missing_parts_and_unknown_types_are_usage_errors(void)
{
	struct profile p;
	int rc = -1;
	char *y = profile_of("mysql://u:pw@h/db", &defaults, &p, &rc);
	CHECK_INT(rc, 2);
	CHECK_STR(y, "connection type 'mysql' is not supported; dbt-runner supports postgres, mssql");
	free(y);
	y = profile_of("postgres://u:pw@h", &defaults, &p, &rc);
	CHECK_INT(rc, 2);
	CHECK_CONTAINS(y, "no schema (Airflow's schema field is the database name)");
	free(y);
	y = profile_of("postgres://h/db", &defaults, &p, &rc);
	CHECK_INT(rc, 2);
	CHECK_CONTAINS(y, "no login");
	free(y);
	y = profile_of("mssql://h:1433/db", &defaults, &p, &rc);
	CHECK_INT(rc, 2);
	CHECK_CONTAINS(y, "login and password, or Kerberos");
	free(y);
}

static void sqlserver_profile_sql_login(void)
{
	struct profile p;
	int rc = -1;
	char *y = profile_of("mssql://etl:pw-1234@sql.example.com/sales?encrypt=true&TrustServerCertificate=false&"
	                     "schema=stage&client_secret=cs-5678",
	                     &defaults, &p, &rc);
	CHECK_INT(rc, 0);
	CHECK_CONTAINS(y, "      type: sqlserver\n      threads: 1\n"
	                  "      driver: \"ODBC Driver 18 for SQL Server\"\n      host: \"sql.example.com\"\n"
	                  "      port: 1433\n      database: \"sales\"\n      schema: \"stage\"\n      user: \"etl\"\n"
	                  "      password: \"{{ env_var('DBT_ENV_SECRET_PASSWORD') }}\"\n      encrypt: true\n"
	                  "      trust_cert: false\n"
	                  "      client_secret: \"{{ env_var('DBT_ENV_SECRET_CLIENT_SECRET') }}\"\n");
	CHECK_NOT_CONTAINS(y, "pw-1234");
	CHECK_NOT_CONTAINS(y, "cs-5678");
	CHECK_INT(p.env.len, 2);
	CHECK_STR(p.env.items[1], "DBT_ENV_SECRET_CLIENT_SECRET=cs-5678");
	profile_free(&p);
	free(y);
}

static void sqlserver_kerberos_has_no_login(void)
{
	struct profile p;
	int rc = -1;
	char *y = profile_of(
	        "{\"conn_type\": \"mssql\", \"host\": \"sql.corp\", \"schema\": \"dw\", \"login\": \"x\", "
	        "\"extra\": {\"authentication\": \"ActiveDirectoryIntegrated\", \"driver\": \"ODBC Driver 17 "
	        "for SQL Server\"}}",
	        &defaults, &p, &rc);
	CHECK_INT(rc, 0);
	CHECK_CONTAINS(y, "      driver: \"ODBC Driver 17 for SQL Server\"\n");
	CHECK_CONTAINS(y, "      authentication: \"ActiveDirectoryIntegrated\"\n");
	CHECK_NOT_CONTAINS(y, "user:");
	CHECK_INT(p.env.len, 0);
	profile_free(&p);
	free(y);
	y = profile_of("mssql://sql.corp/dw?trusted_connection=yes", &defaults, &p, &rc);
	CHECK_INT(rc, 0);
	CHECK_CONTAINS(y, "      windows_login: true\n");
	profile_free(&p);
	free(y);
}

TT_MAIN(TT_CASE(counts_statuses_and_names_failures), TT_CASE(freshness_results_use_error_and_runtime_error),
        TT_CASE(failing_nodes_stop_at_20), TT_CASE(long_message_is_cut_on_a_character),
        TT_CASE(bad_documents_are_errors), TT_CASE(postgres_profile_keeps_the_password_out),
        TT_CASE(values_are_quoted_and_jinja_refused), TT_CASE(missing_parts_and_unknown_types_are_usage_errors),
        TT_CASE(sqlserver_profile_sql_login), TT_CASE(sqlserver_kerberos_has_no_login))
