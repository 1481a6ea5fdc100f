/* sparkconn: an Airflow connection as a Spark job uses it, over JDBC.
 *
 * For --conn ID the job gets, besides AIRFLOW_CONN_<ID> itself, TINYRUN_JDBC_<ID>_URL,
 * TINYRUN_JDBC_<ID>_DRIVER and TINYRUN_JDBC_<ID>_USER (not secret) and TINYRUN_JDBC_<ID>_PASSWORD
 * (secret: the environment of a local or client-mode driver only, never argv or Spark conf).
 * <ID> is the ID upper-cased. Types: postgres (pgJDBC) and mssql (Microsoft's JDBC driver). */
#ifndef SS_SPARKCONN_H
#define SS_SPARKCONN_H

#include <stddef.h>

#include "jobspec.h"

#define SPARKCONN_TYPES "postgres, mssql"

/* Load connection id and add its settings: the plain ones to plain, the password (NULL when the
 * connection has none) to *password. Returns TR_EXIT_OK, or TR_EXIT_USAGE with err filled. */
int sparkconn_jdbc(const char *id, struct kvlist *plain, char **password, char *err, size_t errlen);

/* The variable name TINYRUN_JDBC_<ID>_<what> (caller frees). */
char *sparkconn_var(const char *id, const char *what);

#endif
