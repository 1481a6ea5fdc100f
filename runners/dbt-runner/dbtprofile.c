/* dbtprofile: an Airflow connection -> profiles.yml text plus the secrets for dbt's environment. */
#include "dbtprofile.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "exitcode.h"
#include "redact.h"

const char profile_supported_types[] = "postgres, mssql";

enum field_kind { F_STRING, F_INT, F_BOOL, F_SECRET };

/* An extra the adapter knows: its key in the connection's extra (and an alias), its key in the
 * profile, and how it is written. */
struct field {
	const char *extra, *alias, *key;
	enum field_kind kind;
};

/* dbt-postgres's PostgresCredentials (host, port, user, dbname, schema come from the connection). */
static const struct field postgres_fields[] = {
	{ "sslmode", NULL, "sslmode", F_STRING },
	{ "sslcert", NULL, "sslcert", F_STRING },
	{ "sslkey", NULL, "sslkey", F_STRING },
	{ "sslrootcert", NULL, "sslrootcert", F_STRING },
	{ "connect_timeout", NULL, "connect_timeout", F_INT },
	{ "keepalives_idle", NULL, "keepalives_idle", F_INT },
	{ "retries", NULL, "retries", F_INT },
	{ "role", NULL, "role", F_STRING },
	{ "search_path", NULL, "search_path", F_STRING },
	{ "application_name", NULL, "application_name", F_STRING },
	{ 0 },
};

/* dbt-sqlserver's SQLServerCredentials (host, port, user, database, schema from the connection). */
static const struct field sqlserver_fields[] = {
	{ "authentication", "auth", "authentication", F_STRING },
	{ "windows_login", "trusted_connection", "windows_login", F_BOOL },
	{ "encrypt", NULL, "encrypt", F_BOOL },
	{ "trust_cert", "TrustServerCertificate", "trust_cert", F_BOOL },
	{ "retries", NULL, "retries", F_INT },
	{ "login_timeout", NULL, "login_timeout", F_INT },
	{ "query_timeout", NULL, "query_timeout", F_INT },
	{ "tenant_id", NULL, "tenant_id", F_STRING },
	{ "client_id", "app_id", "client_id", F_STRING },
	{ "client_secret", "app_secret", "client_secret", F_SECRET },
	{ "access_token", NULL, "access_token", F_SECRET },
	{ "schema_authorization", "schema_auth", "schema_authorization", F_STRING },
	{ "trace_flag", NULL, "trace_flag", F_BOOL },
	{ 0 },
};

#define SQLSERVER_DEFAULT_DRIVER "ODBC Driver 18 for SQL Server"

struct writer {
	struct buf yaml;
	struct strlist *env;
	char *err;
	size_t errlen;
	int rc;
};

static void fail(struct writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct writer *w, const char *fmt, ...)
{
	struct buf msg = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	if (!w->rc) /* the first problem is the one to report */
		snprintf(w->err, w->errlen, "%s", buf_str(&msg));
	buf_free(&msg);
	w->rc = TR_EXIT_USAGE;
}

/* dbt renders profiles.yml with Jinja: a value holding a Jinja marker would run as code. */
static bool has_jinja(const char *s)
{
	return strstr(s, "{{") || strstr(s, "{%") || strstr(s, "{#");
}

static void put_quoted(struct buf *b, const char *s)
{
	buf_putc(b, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_printf(b, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			buf_printf(b, "\\x%02x", *p);
		else
			buf_putc(b, (char)*p);
	}
	buf_putc(b, '"');
}

static void put_string(struct writer *w, const char *key, const char *value)
{
	if (has_jinja(value)) {
		fail(w, "the connection's %s holds '{{', '{%%' or '{#', which dbt would run as Jinja", key);
		return;
	}
	buf_printf(&w->yaml, "      %s: ", key);
	put_quoted(&w->yaml, value);
	buf_putc(&w->yaml, '\n');
}

/* The value goes into dbt's environment as DBT_ENV_SECRET_<KEY>; the file names the variable. */
static void put_secret(struct writer *w, const char *key, const char *value)
{
	struct buf var = BUF_INIT;
	buf_puts(&var, "DBT_ENV_SECRET_");
	for (const char *p = key; *p; p++)
		buf_putc(&var, (char)toupper((unsigned char)*p));
	buf_printf(&w->yaml, "      %s: \"{{ env_var('%s') }}\"\n", key, buf_str(&var));
	buf_printf(&var, "=%s", value);
	strlist_push(w->env, buf_str(&var));
	redact_add(value);
	buf_free(&var);
}

static bool parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "1", "yes", "on" }, *const no[] = { "false", "0", "no", "off" };
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return *out = true, true;
		if (strcasecmp(s, no[i]) == 0)
			return *out = false, true;
	}
	return false;
}

static bool is_whole_number(const char *s)
{
	if (!*s)
		return false;
	for (const char *p = s; *p; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	return strlen(s) <= 9;
}

static void put_field(struct writer *w, const struct field *f, const char *value)
{
	bool flag;
	switch (f->kind) {
	case F_STRING: put_string(w, f->key, value); break;
	case F_SECRET: put_secret(w, f->key, value); break;
	case F_INT:
		if (is_whole_number(value))
			buf_printf(&w->yaml, "      %s: %s\n", f->key, value);
		else
			fail(w, "the connection's extra %s must be a whole number", f->extra);
		break;
	case F_BOOL:
		if (parse_bool(value, &flag))
			buf_printf(&w->yaml, "      %s: %s\n", f->key, flag ? "true" : "false");
		else
			fail(w, "the connection's extra %s must be true or false", f->extra);
		break;
	}
}

static const char *extra(const struct conn *c, const char *key, char *scratch, size_t len)
{
	return key ? conn_extra_get(c, key, scratch, len) : NULL;
}

static void put_extras(struct writer *w, const struct conn *c, const struct field *fields)
{
	char scratch[64];
	for (const struct field *f = fields; f->extra; f++) {
		const char *v = extra(c, f->extra, scratch, sizeof scratch);
		if (!v)
			v = extra(c, f->alias, scratch, sizeof scratch);
		if (v)
			put_field(w, f, v);
	}
}

/* host, port, database and target schema: the parts every adapter has. */
static void put_location(struct writer *w, const struct conn *c, const struct profile_opts *o, const char *db_key,
                         long default_port, const char *default_schema)
{
	char scratch[64];
	if (!*c->host)
		fail(w, "the connection has no host");
	if (!*c->schema)
		fail(w, "the connection has no schema (Airflow's schema field is the database name)");
	put_string(w, "host", c->host);
	buf_printf(&w->yaml, "      port: %ld\n", c->port > 0 ? c->port : default_port);
	put_string(w, db_key, c->schema);
	const char *schema = o->schema ? o->schema : extra(c, "schema", scratch, sizeof scratch);
	put_string(w, "schema", schema ? schema : default_schema);
}

static void put_login(struct writer *w, const struct conn *c)
{
	if (c->login)
		put_string(w, "user", c->login);
	if (c->password)
		put_secret(w, "password", c->password);
}

static void postgres(struct writer *w, const struct conn *c, const struct profile_opts *o)
{
	put_location(w, c, o, "dbname", 5432, "public");
	if (!c->login)
		fail(w, "the connection has no login (dbt-postgres needs a user)");
	put_login(w, c);
	put_extras(w, c, postgres_fields);
	char scratch[64];
	if (o->application_name && !extra(c, "application_name", scratch, sizeof scratch))
		put_string(w, "application_name", o->application_name); /* a DBA sees which task runs */
}

/* Kerberos: Windows login (Trusted_Connection) or ActiveDirectoryIntegrated use the ticket in
 * KRB5CCNAME, so no user or password goes into the profile. */
static bool sqlserver_kerberos(const struct conn *c)
{
	char scratch[64];
	const char *auth = extra(c, "authentication", scratch, sizeof scratch);
	if (auth && strcasecmp(auth, "ActiveDirectoryIntegrated") == 0)
		return true;
	const char *win = extra(c, "windows_login", scratch, sizeof scratch);
	if (!win)
		win = extra(c, "trusted_connection", scratch, sizeof scratch);
	bool on = false;
	return win && parse_bool(win, &on) && on;
}

static void sqlserver(struct writer *w, const struct conn *c, const struct profile_opts *o)
{
	char scratch[64];
	const char *driver = extra(c, "driver", scratch, sizeof scratch);
	put_string(w, "driver", driver ? driver : SQLSERVER_DEFAULT_DRIVER);
	put_location(w, c, o, "database", 1433, "dbo");
	char auth_buf[64];
	bool other_auth = extra(c, "authentication", auth_buf, sizeof auth_buf) != NULL;
	if (!sqlserver_kerberos(c)) {
		if (!other_auth && (!c->login || !c->password))
			fail(w, "the connection needs a login and password, or Kerberos: extra "
			        "authentication=ActiveDirectoryIntegrated or windows_login=true");
		put_login(w, c);
	}
	put_extras(w, c, sqlserver_fields);
}

int profile_build(const struct conn *c, const struct profile_opts *o, struct profile *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	struct writer w = { .yaml = BUF_INIT, .env = &out->env, .err = err, .errlen = errlen };
	if (strcmp(c->conn_type, "postgres") == 0)
		out->adapter = "postgres";
	else if (strcmp(c->conn_type, "mssql") == 0)
		out->adapter = "sqlserver";
	else {
		snprintf(err, errlen, "connection type '%s' is not supported; dbt-runner supports %s", c->conn_type,
		         profile_supported_types);
		return TR_EXIT_USAGE;
	}
	buf_printf(&w.yaml, "# written by dbt-runner; secrets are in dbt's environment only\n");
	put_quoted(&w.yaml, o->profile_name);
	buf_puts(&w.yaml, ":\n  target: ");
	put_quoted(&w.yaml, o->target);
	buf_puts(&w.yaml, "\n  outputs:\n    ");
	put_quoted(&w.yaml, o->target);
	buf_printf(&w.yaml, ":\n      type: %s\n      threads: %ld\n", out->adapter, o->threads > 0 ? o->threads : 1);
	if (has_jinja(o->profile_name) || has_jinja(o->target))
		fail(&w, "the profile name and target must not hold Jinja markers");
	if (out->adapter[0] == 'p')
		postgres(&w, c, o);
	else
		sqlserver(&w, c, o);
	out->yaml = buf_detach(&w.yaml);
	if (w.rc)
		profile_free(out);
	return w.rc;
}

void profile_free(struct profile *p)
{
	free(p->yaml);
	p->yaml = NULL;
	/* the secrets: gone from memory with the list */
	for (size_t i = 0; i < p->env.len; i++)
		memset(p->env.items[i], 0, strlen(p->env.items[i]));
	strlist_free(&p->env);
}
