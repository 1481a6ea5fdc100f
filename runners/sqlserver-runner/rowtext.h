/* rowtext: rows as text, written and read one at a time in constant memory, with no FreeTDS.
 *
 *   csv     RFC 4180: a field is quoted when it holds a comma, a quote, CR or LF, when it is an
 *           empty string, or when it equals the NULL text; NULL is --null (default: an empty,
 *           unquoted field). Reading: the same, and an unquoted field equal to the NULL text
 *           is NULL (a quoted one never is).
 *   tsv     PostgreSQL's text format: tab between fields, \\ \t \n \r escaped with a backslash,
 *           NULL is --null (default \N). Reading also takes \b \f \v and \ before any other
 *           character for that character. A value equal to the NULL text is written with a
 *           backslash before its first such character (\NULL), so it reads back as text.
 *   ndjson  one JSON object per row, {"column":value,...} in column order: numbers and
 *           booleans unquoted, NULL as null, everything else a string (RFC 8259 escapes).
 * A row ends with LF; reading, a CR before it is dropped and a last row without LF counts.
 * Reading waits for input together with the stop signals (signals.h): a SIGTERM while a pipe is
 * quiet ends the read with an error (errno EINTR) at once. */
#ifndef SQLSERVER_ROWTEXT_H
#define SQLSERVER_ROWTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "buf.h"

enum row_format { ROW_CSV, ROW_TSV, ROW_NDJSON };

/* "csv", "tsv", "ndjson" (allow_ndjson) to the format; -1 for anything else. */
int row_format_parse(const char *name, bool allow_ndjson);

/* How an NDJSON value is written: a JSON string, or as it stands (a number, true or false). */
enum row_kind { ROW_STRING, ROW_LITERAL };

struct row_writer {
	enum row_format format;
	const char *null;
	FILE *out;
	struct buf line;  /* the row being built */
	struct buf keys;  /* NDJSON: every column's '{"name":' or ',"name":', back to back */
	size_t *key_end;  /* where each column's key ends in keys */
	struct buf names; /* CSV/TSV: the header line */
	size_t ncols, col;
};

/* null: the NULL text for CSV/TSV (NULL for the format's default). */
void row_writer_init(struct row_writer *w, enum row_format format, const char *null, FILE *out);
void row_writer_columns(struct row_writer *w, const char *const *names, size_t n);
/* Write the header line (CSV/TSV: the column names; nothing for NDJSON). Returns 0 or an errno. */
int row_write_header(struct row_writer *w);
void row_value(struct row_writer *w, const char *text, size_t len, enum row_kind kind);
void row_null(struct row_writer *w);
/* End the row and hand it to out. Returns 0, or the errno of a failed write. */
int row_end(struct row_writer *w);
void row_writer_free(struct row_writer *w);

struct row_reader {
	int fd;
	enum row_format format;
	const char *null;
	char *in; /* read-ahead from fd */
	size_t in_len, in_pos;
	bool eof;
	struct buf rec;      /* the record's fields, unescaped, each followed by NUL */
	size_t *start, *len; /* per field: where it starts in rec and its length */
	bool *is_null;       /* per field */
	size_t nfields, cap; /* fields in the record; room for */
	unsigned long line;  /* the line the record starts on (1-based) */
	unsigned long next_line;
	size_t max_record; /* bytes; a longer record is an error */
};

void row_reader_init(struct row_reader *r, int fd, enum row_format format, const char *null);
/* The next record into r (fields r->rec.data + r->start[i], r->len[i], r->is_null[i]). Returns 1,
 * 0 at the end of the input, or -1 with err ("line N: ..."). */
int row_read(struct row_reader *r, char *err, size_t errlen);
void row_reader_free(struct row_reader *r);

/* Append text as a JSON string (quotes included). */
void row_json_string(struct buf *b, const char *text, size_t len);

#endif
