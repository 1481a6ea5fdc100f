/* exitcode: the exit codes of the task contract (DESIGN.md, "Exit codes"), shared by every runner.
 * exitcode.c's table is the one source of their meanings: the runners' --help prints it, and
 * tests/test_exit_codes.py checks README.md's table and the DAG factory's policy against its
 * JSON dump (build/test/asan/exitcode_dump). */
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

struct tr_exit_meaning {
	int code;            /* TR_EXIT_SIGNAL_BASE stands for 128+N */
	const char *label;   /* "75", "128+N" */
	const char *status;  /* the result JSON's "status" */
	const char *meaning; /* for people: README, --help */
	const char *airflow; /* what Airflow does: success, "fail, retry", "fail, no retry", retry, skipped, fail */
};

/* Every exit code of the contract, in order, ending with a zeroed entry. */
extern const struct tr_exit_meaning tr_exit_meanings[];

/* The word that goes into the result JSON's "status" for an exit code. */
const char *exitcode_status(int code);

#endif
