/* rowtext: rows as CSV, TSV or NDJSON text (see rowtext.h). */
#include "rowtext.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "signals.h"

#define READ_CHUNK       65536
#define RECORD_MAX       (64u << 20)
#define TSV_DEFAULT_NULL "\\N"
#define CSV_DEFAULT_NULL ""

int row_format_parse(const char *name, bool allow_ndjson)
{
	if (strcmp(name, "csv") == 0)
		return ROW_CSV;
	if (strcmp(name, "tsv") == 0)
		return ROW_TSV;
	if (allow_ndjson && strcmp(name, "ndjson") == 0)
		return ROW_NDJSON;
	return -1;
}

static const char *default_null(enum row_format format, const char *null)
{
	return null ? null : format == ROW_TSV ? TSV_DEFAULT_NULL : CSV_DEFAULT_NULL;
}

/* ---- writing ---- */

void row_json_string(struct buf *b, const char *text, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	buf_putc(b, '"');
	const char *run = text; /* bytes that need no escape, appended at once */
	for (const char *p = text; p < text + len; p++) {
		unsigned char c = (unsigned char)*p;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_append(b, run, (size_t)(p - run));
		run = p + 1;
		switch (c) {
		case '"': buf_puts(b, "\\\""); break;
		case '\\': buf_puts(b, "\\\\"); break;
		case '\n': buf_puts(b, "\\n"); break;
		case '\r': buf_puts(b, "\\r"); break;
		case '\t': buf_puts(b, "\\t"); break;
		default: {
			char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			buf_append(b, esc, sizeof esc);
		}
		}
	}
	buf_append(b, run, (size_t)(text + len - run));
	buf_putc(b, '"');
}

static void csv_field(struct buf *b, const char *text, size_t len, const char *null)
{
	bool quote = len == 0 || (strlen(null) == len && memcmp(text, null, len) == 0);
	for (size_t i = 0; i < len && !quote; i++)
		quote = text[i] == ',' || text[i] == '"' || text[i] == '\n' || text[i] == '\r';
	if (!quote) {
		buf_append(b, text, len);
		return;
	}
	buf_putc(b, '"');
	const char *run = text;
	for (const char *p = text; p < text + len; p++) {
		if (*p == '"') {
			buf_append(b, run, (size_t)(p + 1 - run));
			run = p; /* the quote again, doubled */
		}
	}
	buf_append(b, run, (size_t)(text + len - run));
	buf_putc(b, '"');
}

/* Where a value equal to the NULL text gets a backslash: before its first character that a
 * backslash leaves as it is (N in NULL). The NULL text is compared before unescaping, so "\NULL"
 * reads back as the text NULL. len when the value is not the NULL text or has no such character
 * (then it stays ambiguous, as in PostgreSQL's own text format). */
static size_t tsv_null_escape_at(const char *text, size_t len, const char *null)
{
	if (!*null || strlen(null) != len || memcmp(text, null, len) != 0)
		return len;
	for (size_t i = 0; i < len; i++)
		if (!strchr("\\tnrbfv\t\n\r", text[i]))
			return i;
	return len;
}

static void tsv_field(struct buf *b, const char *text, size_t len, const char *null)
{
	const char *run = text, *mark = text + tsv_null_escape_at(text, len, null);
	for (const char *p = text; p < text + len; p++) {
		if (p == mark) {
			buf_append(b, run, (size_t)(p - run));
			buf_putc(b, '\\');
			run = p;
		}
		const char *esc = *p == '\\'   ? "\\\\"
		                  : *p == '\t' ? "\\t"
		                  : *p == '\n' ? "\\n"
		                  : *p == '\r' ? "\\r"
		                               : NULL;
		if (!esc)
			continue;
		buf_append(b, run, (size_t)(p - run));
		buf_puts(b, esc);
		run = p + 1;
	}
	buf_append(b, run, (size_t)(text + len - run));
}

void row_writer_init(struct row_writer *w, enum row_format format, const char *null, FILE *out)
{
	*w = (struct row_writer){ .format = format, .null = default_null(format, null), .out = out };
}

void row_writer_columns(struct row_writer *w, const char *const *names, size_t n)
{
	w->ncols = n;
	w->key_end = xrealloc(w->key_end, (n ? n : 1) * sizeof *w->key_end);
	buf_reset(&w->keys);
	buf_reset(&w->names);
	for (size_t i = 0; i < n; i++) {
		buf_putc(&w->keys, i == 0 ? '{' : ',');
		row_json_string(&w->keys, names[i], strlen(names[i]));
		buf_putc(&w->keys, ':');
		w->key_end[i] = w->keys.len;
		if (i > 0)
			buf_putc(&w->names, w->format == ROW_TSV ? '\t' : ',');
		if (w->format == ROW_TSV)
			tsv_field(&w->names, names[i], strlen(names[i]), "");
		else
			csv_field(&w->names, names[i], strlen(names[i]), "");
	}
	buf_putc(&w->names, '\n');
}

static int write_out(struct row_writer *w, const struct buf *b)
{
	if (b->len && fwrite(b->data, 1, b->len, w->out) != b->len)
		return errno ? errno : EIO;
	return 0;
}

int row_write_header(struct row_writer *w)
{
	return w->format == ROW_NDJSON ? 0 : write_out(w, &w->names);
}

/* Start the next field: the separator, or the column's JSON key. */
static void next_field(struct row_writer *w)
{
	if (w->format == ROW_NDJSON) {
		size_t from = w->col == 0 ? 0 : w->key_end[w->col - 1];
		if (w->col < w->ncols)
			buf_append(&w->line, w->keys.data + from, w->key_end[w->col] - from);
	} else if (w->col > 0) {
		buf_putc(&w->line, w->format == ROW_TSV ? '\t' : ',');
	}
	w->col++;
}

void row_value(struct row_writer *w, const char *text, size_t len, enum row_kind kind)
{
	next_field(w);
	if (w->format == ROW_CSV)
		csv_field(&w->line, text, len, w->null);
	else if (w->format == ROW_TSV)
		tsv_field(&w->line, text, len, w->null);
	else if (kind == ROW_LITERAL)
		buf_append(&w->line, text, len);
	else
		row_json_string(&w->line, text, len);
}

void row_null(struct row_writer *w)
{
	next_field(w);
	buf_puts(&w->line, w->format == ROW_NDJSON ? "null" : w->null);
}

int row_end(struct row_writer *w)
{
	if (w->format == ROW_NDJSON)
		buf_puts(&w->line, w->ncols ? "}" : "{}");
	buf_putc(&w->line, '\n');
	int rc = write_out(w, &w->line);
	buf_reset(&w->line);
	w->col = 0;
	return rc;
}

void row_writer_free(struct row_writer *w)
{
	buf_free(&w->line);
	buf_free(&w->keys);
	buf_free(&w->names);
	free(w->key_end);
	w->key_end = NULL;
}

/* ---- reading ---- */

void row_reader_init(struct row_reader *r, int fd, enum row_format format, const char *null)
{
	*r = (struct row_reader){
		.fd = fd, .format = format, .null = default_null(format, null), .next_line = 1, .max_record = RECORD_MAX
	};
	r->in = xmalloc(READ_CHUNK);
}

void row_reader_free(struct row_reader *r)
{
	free(r->in);
	buf_free(&r->rec);
	free(r->start);
	free(r->len);
	free(r->is_null);
	r->in = NULL;
	r->start = r->len = NULL;
	r->is_null = NULL;
}

/* The next byte, or -1 at the end of the input; -2 with errno on a read error. */
static int next_byte(struct row_reader *r)
{
	if (r->in_pos == r->in_len) {
		if (r->eof)
			return -1;
		ssize_t n = -1;
		enum sig_wake wake = sig_wait_fd(r->fd, POLLIN, -1, false);
		if (wake == SIG_WAKE_STOP)
			errno = EINTR;
		else if (wake == SIG_WAKE_READY)
			while ((n = read(r->fd, r->in, READ_CHUNK)) < 0 && errno == EINTR)
				;
		if (n < 0)
			return -2;
		r->in_len = (size_t)n;
		r->in_pos = 0;
		if (n == 0) {
			r->eof = true;
			return -1;
		}
	}
	return (unsigned char)r->in[r->in_pos++];
}

static void add_field(struct row_reader *r, size_t start, bool is_null)
{
	if (r->nfields == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 16;
		r->start = xrealloc(r->start, r->cap * sizeof *r->start);
		r->len = xrealloc(r->len, r->cap * sizeof *r->len);
		r->is_null = xrealloc(r->is_null, r->cap * sizeof *r->is_null);
	}
	r->start[r->nfields] = start;
	r->len[r->nfields] = r->rec.len - start;
	r->is_null[r->nfields++] = is_null;
	buf_putc(&r->rec, '\0');
}

static int read_failed(struct row_reader *r, char *err, size_t errlen)
{
	snprintf(err, errlen, "line %lu: cannot read the input: %s", r->line, strerror(errno));
	return -1;
}

/* One CSV field; *c gets the byte that ended it (',' '\n' or -1). */
static int csv_read_field(struct row_reader *r, int *c, char *err, size_t errlen)
{
	size_t start = r->rec.len;
	int ch = next_byte(r);
	if (ch == '"') {
		bool closed = false;
		while ((ch = next_byte(r)) >= 0) {
			if (ch == '"' && (ch = next_byte(r)) != '"') {
				closed = true;
				break;
			}
			r->next_line += ch == '\n';
			buf_putc(&r->rec, (char)ch);
		}
		if (ch == -2)
			return read_failed(r, err, errlen);
		if (!closed) {
			snprintf(err, errlen, "line %lu: a quoted field is not closed by the end of the input",
			         r->line);
			return -1;
		}
		if (ch == '\r')
			ch = next_byte(r);
		if (ch != ',' && ch != '\n' && ch != -1) {
			snprintf(
			        err, errlen,
			        "line %lu: a quoted field must end at its closing quote (write \"\" for a quote in it)",
			        r->next_line);
			return -1;
		}
		add_field(r, start, false);
		*c = ch;
		return 0;
	}
	for (; ch >= 0 && ch != ',' && ch != '\n'; ch = next_byte(r))
		buf_putc(&r->rec, (char)ch);
	if (ch == -2)
		return read_failed(r, err, errlen);
	if (ch == '\n' && r->rec.len > start && r->rec.data[r->rec.len - 1] == '\r')
		r->rec.data[--r->rec.len] = '\0';
	size_t len = r->rec.len - start;
	add_field(r, start, strlen(r->null) == len && memcmp(r->rec.data + start, r->null, len) == 0);
	*c = ch;
	return 0;
}

static char tsv_unescape(int c)
{
	switch (c) {
	case 't': return '\t';
	case 'n': return '\n';
	case 'r': return '\r';
	case 'b': return '\b';
	case 'f': return '\f';
	case 'v': return '\v';
	default: return (char)c;
	}
}

/* One TSV field; raw keeps it as written, for comparing with the NULL text. */
static int tsv_read_field(struct row_reader *r, struct buf *raw, int *c, char *err, size_t errlen)
{
	size_t start = r->rec.len;
	buf_reset(raw);
	int ch;
	while ((ch = next_byte(r)) >= 0 && ch != '\t' && ch != '\n') {
		buf_putc(raw, (char)ch);
		if (ch == '\\') {
			int escaped = next_byte(r);
			if (escaped < 0) { /* a backslash at the very end stands for itself */
				buf_putc(&r->rec, '\\');
				ch = escaped;
				break;
			}
			buf_putc(raw, (char)escaped);
			ch = (unsigned char)tsv_unescape(escaped);
		}
		buf_putc(&r->rec, (char)ch);
	}
	if (ch == -2)
		return read_failed(r, err, errlen);
	if (ch == '\n' && raw->len > 0 && raw->data[raw->len - 1] == '\r' &&
	    (raw->len < 2 || raw->data[raw->len - 2] != '\\')) {
		raw->data[--raw->len] = '\0';
		r->rec.data[--r->rec.len] = '\0';
	}
	add_field(r, start, strcmp(buf_str(raw), r->null) == 0);
	*c = ch;
	return 0;
}

int row_read(struct row_reader *r, char *err, size_t errlen)
{
	buf_reset(&r->rec);
	buf_puts(&r->rec, "");
	r->nfields = 0;
	r->line = r->next_line;
	if (r->in_pos == r->in_len && !r->eof) {
		int ch = next_byte(r);
		if (ch == -2)
			return read_failed(r, err, errlen);
		if (ch >= 0)
			r->in_pos--;
	}
	if (r->in_pos == r->in_len && r->eof)
		return 0;
	struct buf raw = BUF_INIT;
	int c = ',', rc = 0;
	while (rc == 0 && c != '\n' && c != -1) {
		rc = r->format == ROW_TSV ? tsv_read_field(r, &raw, &c, err, errlen)
		                          : csv_read_field(r, &c, err, errlen);
		if (rc == 0 && r->rec.len > r->max_record) {
			snprintf(err, errlen, "line %lu: a record longer than %zu MB", r->line, r->max_record >> 20);
			rc = -1;
		}
	}
	buf_free(&raw);
	r->next_line++;
	return rc ? -1 : 1;
}
