/* sink: stdout or an atomically published file. */
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "exitcode.h"
#include "result.h"

#define SINK_BUFFER (256 * 1024)

int sink_open(struct sink *s, const char *path)
{
	memset(s, 0, sizeof *s);
	if (!path || strcmp(path, "-") == 0) {
		s->fp = stdout;
		setvbuf(stdout, NULL, _IOFBF, SINK_BUFFER);
		return 0;
	}
	struct buf tmp = BUF_INIT;
	buf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	int fd = open(buf_str(&tmp), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || !(s->fp = fdopen(fd, "w"))) {
		int rc = errno;
		if (fd >= 0)
			close(fd);
		buf_free(&tmp);
		return rc;
	}
	setvbuf(s->fp, NULL, _IOFBF, SINK_BUFFER);
	s->path = xstrdup(path);
	s->tmp = buf_detach(&tmp);
	return 0;
}

static void sink_release(struct sink *s)
{
	free(s->path);
	free(s->tmp);
	s->path = s->tmp = NULL;
	s->fp = NULL;
}

int sink_commit(struct sink *s)
{
	if (!s->path)
		return fflush(s->fp) == 0 ? 0 : errno;
	int rc = 0;
	if (fflush(s->fp) != 0 || fsync(fileno(s->fp)) != 0)
		rc = errno;
	if (fclose(s->fp) != 0 && !rc)
		rc = errno;
	if (!rc && rename(s->tmp, s->path) != 0)
		rc = errno;
	if (rc)
		unlink(s->tmp);
	sink_release(s);
	return rc;
}

void sink_abort(struct sink *s)
{
	if (s->path) {
		fclose(s->fp);
		unlink(s->tmp);
	} else if (s->fp) {
		fflush(s->fp);
	}
	sink_release(s);
}

int sink_finish(struct sink *s, int rc)
{
	if (rc != TR_EXIT_OK) {
		sink_abort(s);
		return rc;
	}
	char *name = xstrdup(s->path ? s->path : "stdout");
	int err = sink_commit(s);
	if (err)
		rc = result_fail(TR_EXIT_FAILED, "output", "cannot write %s: %s", name, strerror(err));
	free(name);
	return rc;
}
