/* secret: values that come from the environment or from a mounted secret file. Any value NAME
 * may instead be given as NAME_FILE, the path of a file holding it (Docker/Kubernetes secrets). */
#ifndef TR_SECRET_H
#define TR_SECRET_H

#include <stdbool.h>
#include <stddef.h>

/* Read NAME from the environment, or the file named by NAME_FILE (one trailing newline is
 * dropped). Returns 0 with *out set (malloc'd) or NULL when neither is set; -1 with err filled
 * when the file cannot be read. A secret value is registered for redaction. */
int secret_getenv(const char *name, bool is_secret, char **out, char *err, size_t errlen);

#endif
