/* sqlresult: the result JSON and log shape of SQL work, shared by every SQL runner (postgres-runner,
 * sqlserver-runner; model-deployer next): exit codes from SQLSTATE and from SQL Server error
 * numbers, the report of a failed statement, and the per-statement summary. Driver-neutral: a runner extracts the
 * fields from its own result type and calls these. */
#ifndef TR_SQLRESULT_H
#define TR_SQLRESULT_H

#include <stddef.h>

#include <cJSON.h>

/* The result's "statements" list keeps at most this many summaries (the log has all of them). */
#define SQL_MAX_STATEMENT_SUMMARIES 200

/* The exit code for an SQLSTATE (NULL: unknown): serialization failure, deadlock, lock timeout,
 * shutdown/crash and classes 08 (connection) and 53 (resources) are temporary (75); class 28
 * is authentication (3); everything else is a failed task (1). */
int sql_state_exit_code(const char *sqlstate);

/* The exit code for a SQL Server error (number, severity) from sql_server_errors, else 1 for
 * severity 11 and up and 0 below (an informational message). */
int sql_server_exit_code(int number, int severity);

/* SQL Server error numbers whose exit code is not 1: logins refused (3), deadlock victim, lock
 * timeout and Azure SQL's transient errors (75). Ends with a zeroed entry. */
struct sql_server_error {
	int first, last; /* a range of error numbers */
	int exit_code;
	const char *meaning;
};
extern const struct sql_server_error sql_server_errors[];

/* What a driver knows about a failed statement; any field may be NULL. */
struct sql_error {
	const char *sqlstate;
	const char *primary; /* NULL: the connection was lost */
	const char *detail;
	const char *hint;
};

/* Report a failure while running where ("file.sql:12", "COPY FROM"): one error log line
 * "where: SQLSTATE message DETAIL: ... HINT: ...", "sqlstate" in the result. Returns the exit
 * code: 128+N when a stop signal caused it (our own cancel), else from the SQLSTATE (75 when
 * the connection was lost). */
int sql_report_error(const struct sql_error *e, const char *where);

/* "INSERT 0 5" -> "INSERT", "CREATE TABLE" -> "CREATE TABLE": the command of a status tag. */
void sql_command_word(const char *status, char *out, size_t len);

/* Log one finished statement and add its summary {file, line, command, rows, ms} to list. */
void sql_record_statement(cJSON *list, const char *file, int line, const char *command, long rows, double ms);

#endif
