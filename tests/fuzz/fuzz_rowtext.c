/* libFuzzer target: sqlserver-runner's CSV/TSV reader (rowtext.h), the parser of copy in's input.
 * The first byte picks the format and the NULL text; the rest is the input. Every record read
 * must be consistent (field bounds inside the record, each field NUL-terminated), and writing the
 * records back with the writer and reading that again must give the same records: the writer
 * and the reader agree on quoting, escapes and NULL. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "rowtext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Read all records of text; each record becomes fields as "<N>" for NULL or "=text", joined by
 * "\x1f" and ended by "\x1e". Returns the dump, or NULL when the input has an error. */
static char *read_all(const char *text, size_t len, enum row_format f, const char *null)
{
	int fds[2];
	if (len > 60000 || pipe(fds) != 0)
		return NULL;
	if (len && write(fds[1], text, len) != (ssize_t)len)
		abort();
	close(fds[1]);
	struct row_reader r;
	row_reader_init(&r, fds[0], f, null);
	struct buf out = BUF_INIT;
	buf_puts(&out, "");
	char err[256];
	int rc;
	while ((rc = row_read(&r, err, sizeof err)) == 1) {
		for (size_t i = 0; i < r.nfields; i++) {
			if (r.start[i] + r.len[i] >= r.rec.len + 1 || r.rec.data[r.start[i] + r.len[i]] != '\0')
				abort();
			buf_puts(&out, r.is_null[i] ? "<N>" : "=");
			if (!r.is_null[i])
				buf_append(&out, r.rec.data + r.start[i], r.len[i]);
			buf_putc(&out, i + 1 < r.nfields ? '\x1f' : '\x1e');
		}
	}
	if (rc < 0 && strncmp(err, "line ", 5) != 0)
		abort();
	row_reader_free(&r);
	close(fds[0]);
	if (rc < 0) {
		buf_free(&out);
		return NULL;
	}
	return buf_detach(&out);
}

/* The dump written back as text by the writer. */
static char *write_back(const char *dump, enum row_format f, const char *null, size_t *len)
{
	char *text = NULL;
	FILE *out = open_memstream(&text, len);
	struct row_writer w;
	row_writer_init(&w, f, null, out);
	for (const char *p = dump; *p;) {
		size_t n = strcspn(p, "\x1f\x1e");
		if (p[0] == '<')
			row_null(&w);
		else
			row_value(&w, p + 1, n - 1, ROW_STRING);
		if (p[n] == '\x1e' && row_end(&w))
			abort();
		p += n + 1;
	}
	row_writer_free(&w);
	fclose(out);
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	static const char *const nulls[] = { NULL, "NULL", "\\N", "" };
	enum row_format f = data[0] & 1 ? ROW_TSV : ROW_CSV;
	const char *null = nulls[(data[0] >> 1) & 3];
	char *dump = read_all((const char *)data + 1, size - 1, f, null);
	/* The dump cannot tell its own separators or NUL from field text: skip inputs holding them. */
	if (dump && !memchr(data + 1, '\x1f', size - 1) && !memchr(data + 1, '\x1e', size - 1) &&
	    !memchr(data + 1, '\0', size - 1)) {
		size_t len;
		char *text = write_back(dump, f, null, &len);
		char *again = read_all(text, len, f, null);
		if (!again || strcmp(again, dump) != 0)
			abort();
		free(again);
		free(text);
	}
	free(dump);
	return 0;
}
