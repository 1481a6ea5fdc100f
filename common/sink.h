/* sink: where a runner streams its data output: stdout, or a file that appears only when it is
 * complete (fsutil's atomic writer: committed on success, removed on failure), so a reader never
 * sees a half-written file and two runners writing the same path never mix their bytes. */
#ifndef TR_SINK_H
#define TR_SINK_H

#include <stdio.h>

#include "fsutil.h"

struct sink {
	FILE *fp;
	struct atomic_file file; /* file.path NULL for stdout */
};

/* path NULL or "-" is stdout. Returns 0, or an errno value. */
int sink_open(struct sink *s, const char *path);
/* Make the output visible. Returns 0, or an errno value (the temporary file is removed). */
int sink_commit(struct sink *s);
/* Drop the output: the temporary file is removed, the target is untouched. */
void sink_abort(struct sink *s);

/* End a run's output: commit it when rc is TR_EXIT_OK, else abort it. Returns rc, or
 * TR_EXIT_FAILED (reported through result_fail) when the commit fails. */
int sink_finish(struct sink *s, int rc);

#endif
