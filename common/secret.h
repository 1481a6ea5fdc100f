/* secret: the one reader of secret files, and values that come from the environment or from a
 * mounted secret file. Any value NAME may instead be given as NAME_FILE, the path of a file
 * holding it (Docker/Kubernetes secrets); --conn-file and --password-file read the same way. */
#ifndef TR_SECRET_H
#define TR_SECRET_H

#include <stdbool.h>
#include <stddef.h>

/* Secret files are small; a bigger one is a wrong mount, not a secret. */
#define SECRET_MAX_BYTES ((size_t)64 * 1024)

/* Read the secret file path, named label in messages (e.g. "--conn-file" or "AIRFLOW_CONN_PG_FILE").
 * Exactly one trailing newline ("\n" or "\r\n") is dropped. An empty value, a NUL byte or more
 * than SECRET_MAX_BYTES is an error. Returns 0 with *out malloc'd, or -1 with err naming the
 * label, the file and what is wrong (*out NULL). The value is not registered for redaction. */
int secret_read_file(const char *path, const char *label, char **out, char *err, size_t errlen);

/* Read NAME from the environment, or through secret_read_file from the file named by NAME_FILE.
 * Returns 0 with *out set (malloc'd) or NULL when neither is set; -1 with err filled when
 * NAME_FILE is empty or its file cannot be used. A secret value is registered for redaction. */
int secret_getenv(const char *name, bool is_secret, char **out, char *err, size_t errlen);

#endif
