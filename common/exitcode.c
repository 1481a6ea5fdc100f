/* exitcode: the table of exit codes and their status words. */
#include "exitcode.h"

#include <stddef.h>

const struct tr_exit_meaning tr_exit_meanings[] = {
	{ TR_EXIT_OK, "0", "success", "success", "success" },
	{ TR_EXIT_FAILED, "1", "failed", "the task failed (SQL error, ...)", "fail, retry" },
	{ TR_EXIT_USAGE, "2", "usage_error", "usage or configuration error", "fail, no retry" },
	{ TR_EXIT_AUTH, "3", "auth_error", "authentication: no/expired ticket, login refused", "fail, no retry" },
	{ TR_EXIT_TEMPFAIL, "75", "temporary_error",
	  "temporary: connection refused/timeout, deadlock, serialization failure, lock timeout", "retry" },
	{ TR_EXIT_SKIPPED, "99", "skipped", "skipped (a guard such as `--skip-unless` found nothing to do)",
	  "skipped" },
	{ TR_EXIT_SIGNAL_BASE, "128+N", "signalled", "stopped by signal N (143 for SIGTERM)", "fail" },
	{ 0, NULL, NULL, NULL, NULL },
};

const char *exitcode_status(int code)
{
	if (code > TR_EXIT_SIGNAL_BASE)
		return "signalled";
	for (const struct tr_exit_meaning *m = tr_exit_meanings; m->label; m++)
		if (m->code == code && code != TR_EXIT_SIGNAL_BASE)
			return m->status;
	return "failed";
}
