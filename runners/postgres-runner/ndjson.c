/* ndjson: rows as JSON lines, typed by column OID (see ndjson.h). */
#include "ndjson.h"

#include <stdlib.h>
#include <string.h>

/* Built-in type OIDs (pg_type.dat): they never change. */
enum {
	OID_BOOL = 16,
	OID_INT8 = 20,
	OID_INT2 = 21,
	OID_INT4 = 23,
	OID_OID = 26,
	OID_JSON = 114,
	OID_FLOAT4 = 700,
	OID_FLOAT8 = 701,
	OID_NUMERIC = 1700,
	OID_JSONB = 3802
};

enum kind {
	KIND_STRING,
	KIND_INTEGER, /* always a valid JSON number */
	KIND_DECIMAL, /* float or numeric: a JSON number unless NaN or +-Infinity */
	KIND_BOOL,
	KIND_JSON
};

struct ndjson_col {
	enum kind kind;
	size_t key_off, key_len; /* the column's '{"name":' or ',"name":' in keys */
};

/* Bytes copied into a JSON string as they are: all but control characters, '"' and '\'. The
 * text is UTF-8 already: the server converts it to the client encoding, UTF-8, and checks it. */
static int is_plain(unsigned char c)
{
	return c >= 0x20 && c != '"' && c != '\\';
}

static enum kind kind_of(Oid type)
{
	switch (type) {
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
	case OID_OID: return KIND_INTEGER;
	case OID_FLOAT4:
	case OID_FLOAT8:
	case OID_NUMERIC: return KIND_DECIMAL;
	case OID_BOOL: return KIND_BOOL;
	case OID_JSON:
	case OID_JSONB: return KIND_JSON;
	default: return KIND_STRING;
	}
}

/* Output goes out in pieces of this size: few, large writes, and flat memory. */
#define OUT_SIZE ((size_t)64 * 1024)

static void flush(struct ndjson *w)
{
	if (!w->failed && w->len && fwrite(w->data, 1, w->len, w->out) != w->len)
		w->failed = true;
	w->len = 0;
}

static void put(struct ndjson *w, const char *s, size_t n)
{
	if (n > OUT_SIZE - w->len) {
		flush(w);
		if (n > OUT_SIZE) { /* a value bigger than the whole buffer goes straight out */
			if (!w->failed && fwrite(s, 1, n, w->out) != n)
				w->failed = true;
			return;
		}
	}
	memcpy(w->data + w->len, s, n);
	w->len += n;
}

static char *put_escape(char *o, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	*o++ = '\\';
	switch (c) {
	case '"':
	case '\\': *o++ = (char)c; break;
	case '\n': *o++ = 'n'; break;
	case '\r': *o++ = 'r'; break;
	case '\t': *o++ = 't'; break;
	case '\b': *o++ = 'b'; break;
	case '\f': *o++ = 'f'; break;
	default: /* other control characters: \u00XX */
		*o++ = 'u';
		*o++ = '0';
		*o++ = '0';
		*o++ = hex[c >> 4];
		*o++ = hex[c & 15];
	}
	return o;
}

/* Escape the bytes [p, stop) to o, which has room for 6 bytes per byte (the longest escape). */
static char *escape_run(char *o, const unsigned char *p, const unsigned char *stop)
{
	while (p < stop) {
		if (is_plain(*p))
			*o++ = (char)*p++;
		else
			o = put_escape(o, *p++);
	}
	return o;
}

/* s as a JSON string, escaped in runs that fit the room left in the buffer. */
static void put_string(struct ndjson *w, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	put(w, "\"", 1);
	while (p < end) {
		if (OUT_SIZE - w->len < 6)
			flush(w);
		size_t fits = (OUT_SIZE - w->len) / 6;
		const unsigned char *stop = (size_t)(end - p) < fits ? end : p + fits;
		char *o = escape_run(w->data + w->len, p, stop);
		w->len = (size_t)(o - w->data);
		p = stop;
	}
	put(w, "\"", 1);
}

/* json text may span lines between its tokens (inside its strings a line break is always
 * escaped): make each a space, so a row stays one line. */
static void put_json(struct ndjson *w, const char *v, size_t len)
{
	for (;;) {
		size_t run = strcspn(v, "\r\n");
		if (run >= len) {
			put(w, v, len);
			return;
		}
		put(w, v, run);
		put(w, " ", 1);
		v += run + 1;
		len -= run + 1;
	}
}

static void put_value(struct ndjson *w, enum kind kind, const char *v, size_t len)
{
	switch (kind) {
	case KIND_INTEGER: put(w, v, len); return;
	case KIND_DECIMAL:
		/* NaN, Infinity and -Infinity are the only outputs that do not start with a digit. */
		if (v[0] == 'N' || v[0] == 'I' || (v[0] == '-' && v[1] == 'I'))
			put_string(w, v, len);
		else
			put(w, v, len);
		return;
	case KIND_BOOL:
		if (v[0] == 't')
			put(w, "true", 4);
		else
			put(w, "false", 5);
		return;
	case KIND_JSON: put_json(w, v, len); return;
	case KIND_STRING: put_string(w, v, len); return;
	}
}

/* Each column's key, '{"name":' or ',"name":', escaped once for all rows. */
static void learn_columns(struct ndjson *w, const PGresult *res)
{
	w->ncols = PQnfields(res);
	w->cols = xmalloc(sizeof *w->cols * (size_t)(w->ncols ? w->ncols : 1));
	for (int c = 0; c < w->ncols; c++) {
		const char *fname = PQfname(res, c);
		const unsigned char *name = (const unsigned char *)fname, *end = name + strlen(fname);
		char *key = xmalloc(6 * (size_t)(end - name) + 4), *o = key;
		*o++ = c == 0 ? '{' : ',';
		*o++ = '"';
		o = escape_run(o, name, end);
		*o++ = '"';
		*o++ = ':';
		w->cols[c].kind = kind_of(PQftype(res, c));
		w->cols[c].key_off = w->keys.len;
		w->cols[c].key_len = (size_t)(o - key);
		buf_append(&w->keys, key, (size_t)(o - key));
		free(key);
	}
}

static void put_row(struct ndjson *w, const PGresult *res, int row)
{
	if (w->ncols == 0) {
		put(w, "{}\n", 3);
		return;
	}
	for (int c = 0; c < w->ncols; c++) {
		const struct ndjson_col *col = &w->cols[c];
		put(w, w->keys.data + col->key_off, col->key_len);
		size_t len = (size_t)PQgetlength(res, row, c);
		if (len == 0 && PQgetisnull(res, row, c))
			put(w, "null", 4);
		else
			put_value(w, col->kind, PQgetvalue(res, row, c), len);
	}
	put(w, "}\n", 2);
}

void ndjson_init(struct ndjson *w, FILE *out)
{
	*w = (struct ndjson){ .out = out, .data = xmalloc(OUT_SIZE), .keys = BUF_INIT, .ncols = -1 };
}

int ndjson_write_rows(struct ndjson *w, const PGresult *res)
{
	if (w->ncols < 0)
		learn_columns(w, res);
	int rows = PQntuples(res);
	for (int r = 0; r < rows && !w->failed; r++)
		put_row(w, res, r);
	return w->failed ? -1 : 0;
}

int ndjson_finish(struct ndjson *w)
{
	flush(w);
	free(w->data);
	buf_free(&w->keys);
	free(w->cols);
	w->data = NULL;
	w->cols = NULL;
	return w->failed ? -1 : 0;
}
