/* exitcode: the exit codes of the task contract (DESIGN.md, "Exit codes"), shared by every runner. */
#ifndef TR_EXITCODE_H
#define TR_EXITCODE_H

enum tr_exit {
	TR_EXIT_OK = 0,        /* success */
	TR_EXIT_FAILED = 1,    /* the task failed: SQL error, failed node, user program failed */
	TR_EXIT_USAGE = 2,     /* usage or configuration error: retrying cannot help */
	TR_EXIT_AUTH = 3,      /* no or expired ticket, login refused */
	TR_EXIT_TEMPFAIL = 75, /* connection refused/timeout, deadlock victim, serialization failure */
	TR_EXIT_SKIPPED = 99,  /* a guard said there is nothing to do */
	TR_EXIT_SIGNAL_BASE = 128
};

/* The word that goes into the result JSON's "status" for an exit code. */
const char *exitcode_status(int code);

#endif
