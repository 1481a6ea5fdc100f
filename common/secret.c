/* secret: the secret file reader and NAME / NAME_FILE lookup. */
#include "secret.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "fsutil.h"
#include "redact.h"

static const char *read_problem(int rc)
{
	return rc == EFBIG ? "larger than 64 KiB, so not a secret (is the right file mounted?)" : strerror(rc);
}

int secret_read_file(const char *path, const char *label, char **out, char *err, size_t errlen)
{
	size_t len;
	*out = NULL;
	int rc = fs_read_file(path, SECRET_MAX_BYTES, out, &len);
	if (rc) {
		snprintf(err, errlen, "cannot read %s=%s: %s; mount the secret file readable by uid %d", label, path,
		         read_problem(rc), (int)getuid());
		return -1;
	}
	if (len && (*out)[len - 1] == '\n') {
		(*out)[--len] = '\0';
		if (len && (*out)[len - 1] == '\r')
			(*out)[--len] = '\0';
	}
	const char *problem = len == 0 ? "the file is empty" : strlen(*out) != len ? "the file holds a NUL byte" : NULL;
	if (problem) {
		snprintf(err, errlen, "%s=%s: %s; put the value in the file", label, path, problem);
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

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
		int rc = 0;
		if (path && !*path) {
			snprintf(err, errlen, "%s is set but empty; give the path of the secret file",
			         buf_str(&file_var));
			rc = -1;
		} else if (path) {
			rc = secret_read_file(path, buf_str(&file_var), out, err, errlen);
		}
		buf_free(&file_var);
		if (rc || !path)
			return rc;
	}
	if (is_secret)
		redact_add(*out);
	return 0;
}
