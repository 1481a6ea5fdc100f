/* cmd_check: `sqlserver-runner check`, a preflight that connects and reports how. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "exitcode.h"
#include "log.h"
#include "result.h"
#include "sqlconn.h"
#include "tdsconn.h"

/* What the server says about our own connection (SQL Server's view, not what we asked for). */
#define CHECK_SQL                                                                                                      \
	"SELECT @@VERSION, SUSER_SNAME(), DB_NAME(), c.encrypt_option, c.auth_scheme "                                 \
	"FROM sys.dm_exec_connections AS c WHERE c.session_id = @@SPID"

enum { COL_VERSION, COL_LOGIN, COL_DATABASE, COL_ENCRYPT, COL_AUTH, NCOLS };

static int fetch(struct mssql_session *s, char values[NCOLS][512])
{
	if (mssql_send(s, CHECK_SQL, strlen(CHECK_SQL)) == FAIL || mssql_results(s) != SUCCEED)
		return mssql_report_failure(s, "check");
	for (int i = 0; i < NCOLS; i++)
		dbbind(s->db, i + 1, NTBSTRINGBIND, 512, (BYTE *)values[i]);
	RETCODE row = dbnextrow(s->db);
	while (dbnextrow(s->db) == REG_ROW)
		;
	while (mssql_results(s) == SUCCEED)
		;
	if (s->failed || s->stopped || s->dead || row != REG_ROW)
		return s->failed || s->stopped || s->dead
		               ? mssql_report_failure(s, "check")
		               : result_fail(TR_EXIT_FAILED, "check",
		                             "the server returned no row for its own connection");
	return TR_EXIT_OK;
}

static int report(struct mssql_session *s)
{
	char v[NCOLS][512] = { { 0 } };
	int rc = fetch(s, v);
	if (rc)
		return rc;
	v[COL_VERSION][strcspn(v[COL_VERSION], "\r\n")] = '\0';
	const struct mssql_info *i = &s->info;
	cJSON *r = result_object();
	cJSON_AddStringToObject(r, "server_version", v[COL_VERSION]);
	cJSON_AddStringToObject(r, "login", v[COL_LOGIN]);
	cJSON_AddStringToObject(r, "database", v[COL_DATABASE]);
	cJSON_AddStringToObject(r, "host", i->host);
	cJSON_AddNumberToObject(r, "port", (double)i->port);
	cJSON_AddBoolToObject(r, "encrypted", strcmp(v[COL_ENCRYPT], "TRUE") == 0);
	cJSON_AddStringToObject(r, "encrypt", i->encrypt);
	cJSON_AddBoolToObject(r, "verify_server", i->verify_server);
	cJSON_AddStringToObject(r, "auth_scheme", v[COL_AUTH]);
	cJSON_AddStringToObject(r, "auth", i->kerberos ? "kerberos" : "sql");
	if (i->kerberos)
		cJSON_AddStringToObject(r, "spn", i->spn);
	cJSON_AddStringToObject(r, "app_name", i->app_name);
	log_info("check", "connected to %s as %s (%s, %s)", v[COL_VERSION], v[COL_LOGIN], v[COL_AUTH],
	         strcmp(v[COL_ENCRYPT], "TRUE") == 0 ? "encrypted" : "not encrypted");
	return TR_EXIT_OK;
}

static int check_main(const struct cmd *cmd, int argc, char **argv)
{
	struct strlist args = { 0 };
	struct mssql_session s = { 0 };
	int rc = cli_parse(cmd, argc, argv, &args);
	if (rc == TR_EXIT_OK && args.len)
		rc = result_fail(TR_EXIT_USAGE, "usage", "check takes no arguments; see '%s --help'", cmd->name);
	if (rc == TR_EXIT_OK)
		rc = mssql_connect(&s);
	if (rc == TR_EXIT_OK)
		rc = report(&s);
	if (s.stopped)
		rc = mssql_stop(&s);
	mssql_close(&s);
	strlist_free(&args);
	return rc;
}

/* clang-format off */
static const struct opt check_opts[] = { SQL_CONN_OPTS, { 0 } };

const struct cmd cmd_check = {
	.name = "sqlserver-runner check",
	.usage = "--conn ID [flags]",
	.summary = "connect and report server version, login, database, encryption, auth scheme and SPN",
	.description =
		"A preflight for a connection: exit 0 when it works, 3 when the login is refused or the\n"
		"Kerberos ticket is missing or expired, 75 when the server cannot be reached, 2 when the\n"
		"connection is misconfigured (unknown encrypt value, no CA bundle, TLS handshake failed).\n"
		"The result JSON has server_version, login, database, encrypted (what the server says),\n"
		"encrypt (what was asked for), auth_scheme (SQL or KERBEROS, the server's word), auth and,\n"
		"with Kerberos, the spn that was used.\n"
		"\n"
		"Example:\n"
		"  sqlserver-runner check --conn mssql_dwh\n",
	.opts = check_opts,
	.run = check_main,
};
/* clang-format on */
