/* copyio: the COPY protocol in both directions, streaming in fixed-size chunks so memory stays
 * flat whatever the size of the data, and stopping cleanly on a stop signal. */
#ifndef PG_COPYIO_H
#define PG_COPYIO_H

#include <libpq-fe.h>
#include <stdio.h>

/* Run a COPY ... TO STDOUT and write its data to out. Returns TR_EXIT_OK with *rows and *bytes
 * set, or the exit code (already reported). */
int copy_to_stream(PGconn *conn, const char *sql, FILE *out, long *rows, long *bytes);

/* What copy_to_rows does with each row: the server sends one row per message, newline included.
 * Returns 0, or an errno value: the rest of the rows are then read and dropped, and the COPY
 * fails with that error. */
typedef int copy_row_fn(void *ctx, const char *row, size_t len);

/* copy_to_stream, with each row handed to fn instead of written. */
int copy_to_rows(PGconn *conn, const char *sql, copy_row_fn *fn, void *ctx, long *rows, long *bytes);

/* Run a COPY ... FROM STDIN fed from the file descriptor in. A failure aborts the COPY, so the
 * table is left as it was. */
int copy_from_fd(PGconn *conn, const char *sql, int in, long *rows, long *bytes);

#endif
