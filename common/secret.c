/* secret: NAME / NAME_FILE lookup. */
#include "secret.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "fsutil.h"
#include "redact.h"

/* Secret files are small; a bigger one is a mistake (a wrong mount), not a secret. */
#define SECRET_MAX_BYTES (1024 * 1024)

int secret_getenv(const char *name, bool is_secret, char **out, char *err, size_t errlen)
{
	*out = NULL;
	const char *value = getenv(name);
	if (value) {
		*out = xstrdup(value);
	} else {
		struct buf file_var = BUF_INIT;
		buf_printf(&file_var, "%s_FILE", name);
		const char *path = getenv(buf_str(&file_var));
		buf_free(&file_var);
		if (!path)
			return 0;
		size_t len;
		int rc = fs_read_file(path, SECRET_MAX_BYTES, out, &len);
		if (rc) {
			snprintf(err, errlen, "cannot read %s_FILE=%s: %s; mount the secret file readable by uid %d",
			         name, path, strerror(rc), (int)getuid());
			return -1;
		}
		if (len && (*out)[len - 1] == '\n')
			(*out)[--len] = '\0';
		if (len && (*out)[len - 1] == '\r')
			(*out)[--len] = '\0';
	}
	if (is_secret)
		redact_add(*out);
	return 0;
}
