/* Unit tests: the SQL result shape shared by SQL runners (sqlresult.h). */
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "exitcode.h"
#include "log.h"
#include "result.h"
#include "sqlresult.h"
#include "tt.h"

static void state_exit_codes(void)
{
	static const struct {
		const char *state;
		int code;
	} cases[] = {
		{ "40001", TR_EXIT_TEMPFAIL }, { "40P01", TR_EXIT_TEMPFAIL }, { "55P03", TR_EXIT_TEMPFAIL },
		{ "57P01", TR_EXIT_TEMPFAIL }, { "57P03", TR_EXIT_TEMPFAIL }, { "08006", TR_EXIT_TEMPFAIL },
		{ "53300", TR_EXIT_TEMPFAIL }, { "28P01", TR_EXIT_AUTH },     { "28000", TR_EXIT_AUTH },
		{ "42P01", TR_EXIT_FAILED },   { "57014", TR_EXIT_FAILED },   { "23505", TR_EXIT_FAILED },
		{ NULL, TR_EXIT_FAILED },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		CHECK_INT(sql_state_exit_code(cases[i].state), cases[i].code);
}

static void sql_server_exit_codes(void)
{
	static const struct {
		int number, severity, code;
	} cases[] = {
		{ 18456, 14, TR_EXIT_AUTH },
		{ 18452, 14, TR_EXIT_AUTH },
		{ 18487, 14, TR_EXIT_AUTH },
		{ 4060, 11, TR_EXIT_AUTH },
		{ 1205, 13, TR_EXIT_TEMPFAIL },
		{ 1222, 16, TR_EXIT_TEMPFAIL },
		{ 40613, 17, TR_EXIT_TEMPFAIL },
		{ 40197, 17, TR_EXIT_TEMPFAIL },
		{ 40501, 20, TR_EXIT_TEMPFAIL },
		{ 49918, 16, TR_EXIT_TEMPFAIL },
		{ 49919, 16, TR_EXIT_TEMPFAIL },
		{ 49920, 16, TR_EXIT_TEMPFAIL },
		{ 49921, 16, TR_EXIT_FAILED },
		{ 8134, 16, TR_EXIT_FAILED },
		{ 50000, 11, TR_EXIT_FAILED },
		{ 50000, 10, TR_EXIT_OK },
		{ 0, 0, TR_EXIT_OK },
		{ 2627, 14, TR_EXIT_FAILED },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		CHECK_INT(sql_server_exit_code(cases[i].number, cases[i].severity), cases[i].code);
}

static void command_words(void)
{
	char out[64];
	sql_command_word("INSERT 0 5", out, sizeof out);
	CHECK_STR(out, "INSERT");
	sql_command_word("CREATE TABLE", out, sizeof out);
	CHECK_STR(out, "CREATE TABLE");
	sql_command_word("SELECT 12", out, sizeof out);
	CHECK_STR(out, "SELECT");
	sql_command_word("", out, sizeof out);
	CHECK_STR(out, "");
}

static char *report(const struct sql_error *e, const char *where, int *code)
{
	log_set_format("json");
	struct tt_capture cap;
	tt_capture_start(&cap, 2);
	*code = sql_report_error(e, where);
	return tt_capture_end(&cap);
}

static void error_report_shape(void)
{
	struct sql_error e = { "23505", "duplicate key", "Key (id)=(1) already exists.", "drop it" };
	int code;
	char *log = report(&e, "load.sql:3", &code);
	CHECK_INT(code, TR_EXIT_FAILED);
	CHECK_CONTAINS(log, "load.sql:3: 23505 duplicate key DETAIL: Key (id)=(1) already exists. HINT: drop it");
	CHECK_CONTAINS(log, "\"level\":\"error\"");
	const cJSON *state = cJSON_GetObjectItem(result_object(), "sqlstate");
	CHECK_STR(cJSON_GetStringValue(state), "23505");
	free(log);
}

static void lost_connection_is_temporary(void)
{
	struct sql_error e = { 0 };
	int code;
	char *log = report(&e, "COPY FROM", &code);
	CHECK_INT(code, TR_EXIT_TEMPFAIL);
	CHECK_CONTAINS(log, "COPY FROM: the connection was lost");
	CHECK(cJSON_GetObjectItem(result_object(), "sqlstate") == NULL);
	free(log);
	struct sql_error no_state = { NULL, "server closed the connection", NULL, NULL };
	free(report(&no_state, "x", &code));
	CHECK_INT(code, TR_EXIT_FAILED);
}

static void statement_summaries_are_capped(void)
{
	cJSON *list = cJSON_CreateArray();
	log_set_level("error");
	for (int i = 0; i < SQL_MAX_STATEMENT_SUMMARIES + 5; i++)
		sql_record_statement(list, "a.sql", i + 1, "INSERT", 2, 1.23456);
	CHECK_INT(cJSON_GetArraySize(list), SQL_MAX_STATEMENT_SUMMARIES);
	const cJSON *first = cJSON_GetArrayItem(list, 0);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(first, "file")), "a.sql");
	CHECK_INT(cJSON_GetObjectItem(first, "line")->valueint, 1);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(first, "command")), "INSERT");
	CHECK_INT(cJSON_GetObjectItem(first, "rows")->valueint, 2);
	CHECK(cJSON_GetObjectItem(first, "ms")->valuedouble == 1.234);
	cJSON_Delete(list);
}

TT_MAIN(TT_CASE(state_exit_codes), TT_CASE(sql_server_exit_codes), TT_CASE(command_words), TT_CASE(error_report_shape),
        TT_CASE(lost_connection_is_temporary), TT_CASE(statement_summaries_are_capped))
