/* sqlresult: SQLSTATE exit codes, failure reports and statement summaries. */
#include "sqlresult.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "exitcode.h"
#include "log.h"
#include "result.h"
#include "signals.h"

int sql_state_exit_code(const char *sqlstate)
{
	static const char *const temporary[] = { "40001", "40P01", "55P03", "57P01", "57P02", "57P03", NULL };
	if (!sqlstate)
		return TR_EXIT_FAILED;
	for (const char *const *t = temporary; *t; t++)
		if (strcmp(sqlstate, *t) == 0)
			return TR_EXIT_TEMPFAIL;
	if (strncmp(sqlstate, "08", 2) == 0 || strncmp(sqlstate, "53", 2) == 0)
		return TR_EXIT_TEMPFAIL;
	if (strncmp(sqlstate, "28", 2) == 0)
		return TR_EXIT_AUTH;
	return TR_EXIT_FAILED;
}

const struct sql_server_error sql_server_errors[] = {
	{ 4060, 4060, TR_EXIT_AUTH, "cannot open the database requested by the login" },
	{ 18452, 18452, TR_EXIT_AUTH, "login from an untrusted domain (Windows authentication refused)" },
	{ 18456, 18456, TR_EXIT_AUTH, "login failed" },
	{ 18486, 18488, TR_EXIT_AUTH, "account locked out, password expired or must be changed" },
	{ 1205, 1205, TR_EXIT_TEMPFAIL, "deadlock victim" },
	{ 1222, 1222, TR_EXIT_TEMPFAIL, "lock request time out" },
	{ 10928, 10929, TR_EXIT_TEMPFAIL, "Azure SQL resource limit reached" },
	{ 40197, 40197, TR_EXIT_TEMPFAIL, "Azure SQL service error processing the request" },
	{ 40501, 40501, TR_EXIT_TEMPFAIL, "Azure SQL service busy" },
	{ 40613, 40613, TR_EXIT_TEMPFAIL, "Azure SQL database not currently available" },
	{ 49918, 49920, TR_EXIT_TEMPFAIL, "Azure SQL cannot process the request: too many operations" },
	{ 0, 0, 0, NULL },
};

int sql_server_exit_code(int number, int severity)
{
	for (const struct sql_server_error *e = sql_server_errors; e->meaning; e++)
		if (number >= e->first && number <= e->last)
			return e->exit_code;
	return severity > 10 ? TR_EXIT_FAILED : TR_EXIT_OK;
}

int sql_report_error(const struct sql_error *e, const char *where)
{
	if (sig_caught())
		return result_fail(sig_exit_code(), "stopped", "stopped by signal %d while running %s", sig_caught(),
		                   where);
	struct buf msg = BUF_INIT;
	const char *state = e->sqlstate;
	buf_printf(&msg, "%s: %s%s%s", where, state ? state : "", state ? " " : "",
	           e->primary ? e->primary : "the connection was lost");
	if (e->detail)
		buf_printf(&msg, " DETAIL: %s", e->detail);
	if (e->hint)
		buf_printf(&msg, " HINT: %s", e->hint);
	if (state)
		cJSON_AddStringToObject(result_object(), "sqlstate", state);
	int code = e->primary || state ? sql_state_exit_code(state) : TR_EXIT_TEMPFAIL;
	code = result_fail(code, "sql_error", "%s", buf_str(&msg));
	buf_free(&msg);
	return code;
}

void sql_command_word(const char *status, char *out, size_t len)
{
	snprintf(out, len, "%s", status);
	for (char *end = out + strlen(out); end > out && strchr("0123456789 ", end[-1]); end--)
		end[-1] = '\0';
}

void sql_record_statement(cJSON *list, const char *file, int line, const char *command, long rows, double ms)
{
	cJSON *f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "file", file);
	cJSON_AddNumberToObject(f, "line", line);
	cJSON_AddStringToObject(f, "command", command);
	cJSON_AddNumberToObject(f, "rows", (double)rows);
	cJSON_AddNumberToObject(f, "ms", (double)(long)(ms * 1000) / 1000);
	if (cJSON_GetArraySize(list) < SQL_MAX_STATEMENT_SUMMARIES)
		cJSON_AddItemToArray(list, cJSON_Duplicate(f, 1));
	log_event(LOG_LEVEL_INFO, "statement", f, "%s:%d %s (%ld rows, %.1f ms)", file, line, command, rows, ms);
}
