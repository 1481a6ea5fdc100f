/* copyio: the COPY protocol in both directions, streaming in fixed-size chunks so memory stays
 * flat whatever the size of the data, and stopping cleanly on a stop signal. */
#ifndef PG_COPYIO_H
#define PG_COPYIO_H

#include <libpq-fe.h>
#include <stdio.h>

/* Run a COPY ... TO STDOUT and write its data to out. Returns TR_EXIT_OK with *rows and *bytes
 * set, or the exit code (already reported). */
int copy_to_stream(PGconn *conn, const char *sql, FILE *out, long *rows, long *bytes);

/* Run a COPY ... FROM STDIN fed from the file descriptor in. A failure aborts the COPY, so the
 * table is left as it was. */
int copy_from_fd(PGconn *conn, const char *sql, int in, long *rows, long *bytes);

#endif
