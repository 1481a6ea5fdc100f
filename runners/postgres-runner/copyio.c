/* copyio: COPY TO STDOUT / FROM STDIN streaming. */
#include "copyio.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "exitcode.h"
#include "pgconn.h"
#include "result.h"
#include "signals.h"

#define COPY_CHUNK ((size_t)256 * 1024)

/* The end of a COPY: its final result says whether it worked and how many rows it moved. */
static int copy_finish(PGconn *conn, const char *what, long *rows)
{
	int rc = TR_EXIT_OK;
	PGresult *res;
	while ((res = pg_next_result(conn))) {
		if (rc == TR_EXIT_OK && PQresultStatus(res) != PGRES_COMMAND_OK)
			rc = pg_report_failure(res, what);
		else if (rc == TR_EXIT_OK)
			*rows = strtol(PQcmdTuples(res), NULL, 10);
		PQclear(res);
	}
	if (rc == TR_EXIT_OK && sig_caught())
		rc = pg_report_failure(NULL, what);
	return rc;
}

static int copy_start(PGconn *conn, const char *sql, ExecStatusType want)
{
	if (!PQsendQuery(conn, sql))
		return result_fail(TR_EXIT_TEMPFAIL, "sql_error", "%s", PQerrorMessage(conn));
	PGresult *res = pg_next_result(conn);
	int rc = res && PQresultStatus(res) == want ? TR_EXIT_OK : pg_report_failure(res, "COPY");
	PQclear(res);
	if (rc)
		while ((res = pg_next_result(conn)))
			PQclear(res);
	return rc;
}

int copy_to_rows(PGconn *conn, const char *sql, copy_row_fn *fn, void *ctx, long *rows, long *bytes)
{
	int rc = copy_start(conn, sql, PGRES_COPY_OUT);
	if (rc)
		return rc;
	*bytes = 0;
	char *data;
	int n;
	int write_error = 0;
	while ((n = PQgetCopyData(conn, &data, 1)) >= 0) {
		if (n == 0) { /* nothing buffered yet: wait for the socket (or a stop signal) */
			if (pg_wait_socket(conn, 0) < 0 || !PQconsumeInput(conn))
				break;
			continue;
		}
		if (!write_error)
			write_error = fn(ctx, data, (size_t)n);
		*bytes += n;
		PQfreemem(data);
	}
	rc = copy_finish(conn, "COPY TO", rows);
	if (rc == TR_EXIT_OK && write_error)
		rc = result_fail(TR_EXIT_FAILED, "output", "cannot write the output: %s", strerror(write_error));
	return rc;
}

static int write_row(void *out, const char *row, size_t len)
{
	return fwrite(row, 1, len, out) == len ? 0 : errno ? errno : EIO;
}

int copy_to_stream(PGconn *conn, const char *sql, FILE *out, long *rows, long *bytes)
{
	return copy_to_rows(conn, sql, write_row, out, rows, bytes);
}

/* Queue data on the non-blocking connection, waiting for the socket while libpq's buffer is
 * full. Returns 0, or -1 on an error or after a stop's deadline. */
static int put_data(PGconn *conn, const char *data, int len)
{
	int r;
	while ((r = PQputCopyData(conn, data, len)) == 0)
		if (pg_wait_socket(conn, 1) < 0 || !PQconsumeInput(conn))
			return -1;
	return r == 1 ? 0 : -1;
}

/* Send everything queued (PQflush's rules for non-blocking connections). */
static int flush_all(PGconn *conn)
{
	int r;
	while ((r = PQflush(conn)) == 1)
		if (pg_wait_socket(conn, 1) < 0 || !PQconsumeInput(conn))
			return -1;
	return r;
}

/* Read the next chunk of input, or stop: input from a pipe may never come. */
static ssize_t read_input(int in, char *chunk)
{
	for (;;) {
		if (sig_wait_fd(in, POLLIN, SIG_NO_DEADLINE, false) == SIG_WAKE_STOP)
			return -1;
		ssize_t n = read(in, chunk, COPY_CHUNK);
		if (n >= 0 || (errno != EINTR && errno != EAGAIN))
			return n;
	}
}

static int feed(PGconn *conn, int in, long *bytes)
{
	char *chunk = xmalloc(COPY_CHUNK);
	const char *abort_reason = NULL;
	PQsetnonblocking(conn, 1);
	for (;;) {
		ssize_t n = read_input(in, chunk);
		if (sig_caught()) {
			abort_reason = "stopped by a signal";
			break;
		}
		if (n < 0) {
			abort_reason = strerror(errno);
			break;
		}
		if (n == 0)
			break;
		if (put_data(conn, chunk, (int)n) < 0) {
			abort_reason = PQerrorMessage(conn);
			break;
		}
		*bytes += n;
	}
	free(chunk);
	int r;
	while ((r = PQputCopyEnd(conn, abort_reason)) == 0)
		if (pg_wait_socket(conn, 1) < 0 || !PQconsumeInput(conn))
			break;
	if ((r != 1 || flush_all(conn) < 0) && !abort_reason && !sig_caught())
		abort_reason = PQerrorMessage(conn);
	PQsetnonblocking(conn, 0);
	if (abort_reason && !sig_caught())
		return result_fail(TR_EXIT_FAILED, "input", "cannot read the input: %s", abort_reason);
	return TR_EXIT_OK;
}

int copy_from_fd(PGconn *conn, const char *sql, int in, long *rows, long *bytes)
{
	int rc = copy_start(conn, sql, PGRES_COPY_IN);
	if (rc)
		return rc;
	*bytes = 0;
	int feed_rc = feed(conn, in, bytes);
	rc = copy_finish(conn, "COPY FROM", rows);
	return feed_rc ? feed_rc : rc;
}
