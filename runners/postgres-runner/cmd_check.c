/* cmd_check: `postgres-runner check`, a preflight that connects and reports how. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "exitcode.h"
#include "log.h"
#include "pgconn.h"
#include "result.h"

static const char *auth_method(PGconn *conn)
{
	if (PQconnectionUsedGSSAPI(conn))
		return "gss";
	if (PQconnectionUsedPassword(conn))
		return "password";
	return PQsslAttribute(conn, "protocol") && PQparameterStatus(conn, "session_authorization") ? "trust_or_cert"
	                                                                                            : "trust";
}

static int report(PGconn *conn)
{
	PGresult *res = pg_exec(
	        conn, "SELECT current_setting('server_version'), current_user, current_database(), "
	              "coalesce((SELECT gss_authenticated FROM pg_stat_gssapi WHERE pid = pg_backend_pid()), false)");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		int rc = pg_report_failure(res, "check");
		PQclear(res);
		return rc;
	}
	cJSON *r = result_object();
	cJSON_AddStringToObject(r, "server_version", PQgetvalue(res, 0, 0));
	cJSON_AddStringToObject(r, "user", PQgetvalue(res, 0, 1));
	cJSON_AddStringToObject(r, "database", PQgetvalue(res, 0, 2));
	cJSON_AddStringToObject(r, "host", PQhost(conn) ? PQhost(conn) : "");
	cJSON_AddBoolToObject(r, "ssl", PQsslInUse(conn));
	if (PQsslInUse(conn))
		cJSON_AddStringToObject(r, "ssl_protocol", PQsslAttribute(conn, "protocol"));
	cJSON_AddBoolToObject(r, "gss", PQgssEncInUse(conn));
	cJSON_AddBoolToObject(r, "gss_authenticated", strcmp(PQgetvalue(res, 0, 3), "t") == 0);
	cJSON_AddStringToObject(r, "auth_method", auth_method(conn));
	log_info("check", "connected to PostgreSQL %s as %s", PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
	PQclear(res);
	return TR_EXIT_OK;
}

static int check_main(const struct cmd *cmd, int argc, char **argv)
{
	struct strlist args = { 0 };
	PGconn *conn = NULL;
	int rc = cli_parse(cmd, argc, argv, &args);
	if (rc == TR_EXIT_OK && args.len)
		rc = result_fail(TR_EXIT_USAGE, "usage", "check takes no arguments; see '%s --help'", cmd->name);
	if (rc == TR_EXIT_OK)
		rc = pg_connect(&conn);
	if (rc == TR_EXIT_OK)
		rc = report(conn);
	PQfinish(conn);
	strlist_free(&args);
	return rc;
}

/* clang-format off */
static const struct opt check_opts[] = { SQL_CONN_OPTS, { 0 } };

const struct cmd cmd_check = {
	.name = "postgres-runner check",
	.usage = "--conn ID [flags]",
	.summary = "connect and report server version, user, database, TLS/GSS and auth method",
	.description =
		"A preflight for a connection: exit 0 when it works, 3 when the login is refused or the\n"
		"Kerberos ticket is missing or expired, 75 when the server cannot be reached.\n"
		"\n"
		"Example:\n"
		"  postgres-runner check --conn warehouse\n",
	.opts = check_opts,
	.run = check_main,
};
/* clang-format on */
