/* conn: Airflow connections, parsed exactly as Airflow parses them.
 *
 * A connection comes from AIRFLOW_CONN_<ID> (or AIRFLOW_CONN_<ID>_FILE), or from a mounted file
 * (--conn-file), in Airflow's URI form or its JSON form. The URI rules follow Airflow's
 * Connection._parse_from_uri on top of Python's urlsplit: the scheme is the conn type
 * (postgresql -> postgres, '-' -> '_'), user and password are URL-decoded, the path is the
 * schema, the host is lower-cased, a second "proto://" becomes part of the host, and the query
 * is the extra: either its __extra__ parameter (JSON text) or the parameters themselves.
 *
 * One deliberate difference: Airflow logs and ignores an extra that is not valid JSON; we refuse
 * it, because silently dropping e.g. sslmode=verify-full would weaken the connection. */
#ifndef TR_CONN_H
#define TR_CONN_H

#include <stddef.h>

#include <cJSON.h>

struct conn {
	char *conn_type; /* normalised; "" when absent */
	char *host;      /* "" when absent (as Airflow) */
	char *login;     /* NULL when absent */
	char *password;  /* NULL when absent; registered for redaction */
	char *schema;    /* "" when absent */
	long port;       /* -1 when absent */
	cJSON *extra;    /* a JSON object, never NULL */
};

/* Each returns 0, or -1 with a message in err that never contains the connection's text. */
int conn_parse_airflow_uri(const char *uri, struct conn *out, char *err, size_t errlen);
int conn_parse_airflow_json(const char *json, struct conn *out, char *err, size_t errlen);
/* JSON when the text starts with '{' (after blanks), else URI: what Airflow's env backend does. */
int conn_parse(const char *text, struct conn *out, char *err, size_t errlen);

/* Load connection id from AIRFLOW_CONN_<ID upper-cased>, or from conn_file when it is set.
 * Returns 0, or TR_EXIT_USAGE with a message saying what to set. */
int conn_load(const char *conn_id, const char *conn_file, struct conn *out, char *err, size_t errlen);

/* A JSON scalar as text (numbers and booleans formatted, integers without a fraction), or NULL
 * for anything else. Used for extras and for other JSON settings that become text. */
const char *conn_json_scalar(const cJSON *v, char *scratch, size_t scratchlen);

/* The extra's value for key as a string (numbers and booleans are formatted), or NULL. */
const char *conn_extra_get(const struct conn *c, const char *key, char *scratch, size_t scratchlen);

/* The connection as Airflow would show it, password masked: for logs and tests. */
cJSON *conn_to_json(const struct conn *c, int with_password);

void conn_free(struct conn *c);

#endif
