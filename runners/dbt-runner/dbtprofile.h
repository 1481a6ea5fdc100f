/* dbtprofile: dbt's profiles.yml from an Airflow connection (postgres, and mssql for dbt-sqlserver).
 *
 * The file holds no secret: the password (and dbt-sqlserver's client_secret and access_token)
 * appear as {{ env_var('DBT_ENV_SECRET_...') }}, and the values go into dbt's environment only;
 * dbt scrubs every DBT_ENV_SECRET_* value from its logs. Every other value is written as a YAML
 * double-quoted string; one that holds Jinja markers is refused, because dbt renders the file. */
#ifndef DR_DBTPROFILE_H
#define DR_DBTPROFILE_H

#include <stddef.h>

#include "conn.h"
#include "strlist.h"

struct profile_opts {
	const char *profile_name;     /* the top-level key (dbt --profile) */
	const char *target;           /* the output's name (dbt --target) */
	const char *schema;           /* the target schema; NULL: the extra "schema", else public / dbo */
	long threads;                 /* 0: 1 */
	const char *application_name; /* postgres, unless the extra sets it; NULL: dbt's default */
};

struct profile {
	char *yaml;          /* the whole profiles.yml */
	const char *adapter; /* "postgres" or "sqlserver" */
	struct strlist env;  /* NAME=VALUE pairs for dbt's environment: the secrets */
};

/* The connection types covered, for messages: "postgres, mssql". */
extern const char profile_supported_types[];

/* Build the profile for connection c. Returns 0, or TR_EXIT_USAGE with err saying what to fix
 * (an unknown connection type lists the supported ones). */
int profile_build(const struct conn *c, const struct profile_opts *o, struct profile *out, char *err, size_t errlen);
void profile_free(struct profile *p);

#endif
