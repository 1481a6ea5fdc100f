/* exitcode: status words for the result line. */
#include "exitcode.h"

const char *exitcode_status(int code)
{
	switch (code) {
	case TR_EXIT_OK: return "success";
	case TR_EXIT_FAILED: return "failed";
	case TR_EXIT_USAGE: return "usage_error";
	case TR_EXIT_AUTH: return "auth_error";
	case TR_EXIT_TEMPFAIL: return "temporary_error";
	case TR_EXIT_SKIPPED: return "skipped";
	default: return code > TR_EXIT_SIGNAL_BASE ? "signalled" : "failed";
	}
}
