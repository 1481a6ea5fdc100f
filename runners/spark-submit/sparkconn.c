/* sparkconn: JDBC settings from Airflow connections. */
#include "sparkconn.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conn.h"
#include "exitcode.h"

char *sparkconn_var(const char *id, const char *what)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, "TINYRUN_JDBC_");
	for (const char *p = id; *p; p++)
		buf_putc(&b, (char)toupper((unsigned char)*p));
	buf_printf(&b, "_%s", what);
	return buf_detach(&b);
}

/* Extras pgJDBC takes under the same name as libpq. */
static const char *const pg_extras[] = { "sslmode", "sslrootcert", "sslcert", "sslkey", "options", NULL };
/* Extras of Airflow's mssql connection that are Microsoft JDBC properties. */
static const char *const mssql_extras[] = { "encrypt",        "trustServerCertificate", "hostNameInCertificate",
	                                    "authentication", "integratedSecurity",     NULL };

static void add_extras(struct buf *url, const struct conn *c, const char *const *names, char first, char sep)
{
	for (size_t i = 0; names[i]; i++) {
		char scratch[64];
		const char *v = conn_extra_get(c, names[i], scratch, sizeof scratch);
		if (v) {
			buf_printf(url, "%c%s=%s", first, names[i], v);
			first = sep;
		}
	}
}

static void jdbc_url(const struct conn *c, bool pg, struct buf *url)
{
	const char *host = *c->host ? c->host : "localhost";
	long port = c->port > 0 ? c->port : pg ? 5432 : 1433;
	if (pg) {
		buf_printf(url, "jdbc:postgresql://%s:%ld/%s", host, port, c->schema);
		add_extras(url, c, pg_extras, '?', '&');
	} else {
		buf_printf(url, "jdbc:sqlserver://%s:%ld", host, port);
		if (*c->schema)
			buf_printf(url, ";databaseName=%s", c->schema);
		add_extras(url, c, mssql_extras, ';', ';');
	}
}

static void add_plain(struct kvlist *plain, const char *id, const char *what, const char *value)
{
	char *name = sparkconn_var(id, what);
	strlist_push(&plain->keys, name);
	strlist_push(&plain->values, value);
	free(name);
}

int sparkconn_jdbc(const char *id, struct kvlist *plain, char **password, char *err, size_t errlen)
{
	struct conn c;
	*password = NULL;
	if (conn_load(id, NULL, &c, err, errlen) != 0)
		return TR_EXIT_USAGE;
	bool pg = strcmp(c.conn_type, "postgres") == 0;
	if (!pg && strcmp(c.conn_type, "mssql") != 0) {
		snprintf(err, errlen,
		         "connection '%s' has type '%s', which a Spark job cannot use over JDBC; supported: %s", id,
		         c.conn_type, SPARKCONN_TYPES);
		conn_free(&c);
		return TR_EXIT_USAGE;
	}
	struct buf url = BUF_INIT;
	jdbc_url(&c, pg, &url);
	add_plain(plain, id, "URL", buf_str(&url));
	add_plain(plain, id, "DRIVER", pg ? "org.postgresql.Driver" : "com.microsoft.sqlserver.jdbc.SQLServerDriver");
	add_plain(plain, id, "USER", c.login ? c.login : "");
	if (c.password)
		*password = xstrdup(c.password);
	buf_free(&url);
	conn_free(&c);
	return TR_EXIT_OK;
}
