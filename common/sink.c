/* sink: stdout or an atomically published file. */
#include "sink.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "exitcode.h"
#include "result.h"

#define SINK_BUFFER ((size_t)256 * 1024)

int sink_open(struct sink *s, const char *path)
{
	memset(s, 0, sizeof *s);
	s->file.fd = -1;
	if (!path || strcmp(path, "-") == 0) {
		s->fp = stdout;
		setvbuf(stdout, NULL, _IOFBF, SINK_BUFFER);
		return 0;
	}
	int rc = atomic_open(&s->file, path, 0644, (gid_t)-1);
	if (rc)
		return rc;
	if (!(s->fp = fdopen(s->file.fd, "w"))) {
		rc = errno;
		atomic_abort(&s->file);
		return rc;
	}
	setvbuf(s->fp, NULL, _IOFBF, SINK_BUFFER);
	return 0;
}

int sink_commit(struct sink *s)
{
	FILE *fp = s->fp;
	s->fp = NULL;
	if (!s->file.path)
		return fflush(fp) == 0 ? 0 : errno;
	int rc = 0;
	if (fflush(fp) != 0 || fsync(fileno(fp)) != 0)
		rc = errno;
	if (fclose(fp) != 0 && !rc)
		rc = errno;
	s->file.fd = -1; /* closed with fp, after its fsync */
	if (rc) {
		atomic_abort(&s->file);
		return rc;
	}
	return atomic_commit(&s->file);
}

void sink_abort(struct sink *s)
{
	if (s->file.path) {
		fclose(s->fp);
		s->file.fd = -1;
		atomic_abort(&s->file);
	} else if (s->fp) {
		fflush(s->fp);
	}
	s->fp = NULL;
}

int sink_finish(struct sink *s, int rc)
{
	if (rc != TR_EXIT_OK) {
		sink_abort(s);
		return rc;
	}
	char *name = xstrdup(s->file.path ? s->file.path : "stdout");
	int err = sink_commit(s);
	if (err)
		rc = result_fail(TR_EXIT_FAILED, "output", "cannot write %s: %s", name, strerror(err));
	free(name);
	return rc;
}
