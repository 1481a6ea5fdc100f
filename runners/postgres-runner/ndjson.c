/* ndjson: COPY text rows as JSON lines, typed by column OID (see ndjson.h). */
#include "ndjson.h"

#include <errno.h>
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

/* Output goes out in pieces of this size: few, large writes, and flat memory. */
#define OUT_SIZE ((size_t)64 * 1024)
/* The most one input byte becomes: a control character as \u00XX. */
#define MAX_GROWTH 6

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

static void flush(struct ndjson *w)
{
	if (!w->error && w->len && fwrite(w->data, 1, w->len, w->out) != w->len)
		w->error = errno ? errno : EIO;
	w->len = 0;
}

/* Where n more bytes fit: o, or the start of the buffer after flushing everything before o. */
static char *room_for(struct ndjson *w, char *o, size_t n)
{
	if ((size_t)(w->data + OUT_SIZE - o) >= n)
		return o;
	w->len = (size_t)(o - w->data);
	flush(w);
	return w->data;
}

/* Keys and keywords: a few bytes, where a loop beats memcpy's set-up. */
static char *copy_small(char *o, const char *s, size_t n)
{
	while (n--)
		*o++ = *s++;
	return o;
}

/* Per-byte tests of the conversion loops: always inlined, even at -Os (a call per byte costs
 * more than the whole test). */
#define PER_BYTE static inline __attribute__((always_inline))

/* Bytes copied into a JSON string as they are: all but control characters, '"' and '\'. The
 * text is UTF-8 already: the server converts it to the client encoding, UTF-8, and checks it. */
PER_BYTE int is_plain(unsigned char c)
{
	return c >= 0x20 && c != '"' && c != '\\';
}

PER_BYTE int at_field_end(unsigned char c)
{
	return c == '\t' || c == '\n'; /* in the data, COPY writes these two as \t and \n */
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

/* The byte that COPY's text format writes as a backslash and c: \b \f \n \r \t \v, and \\. */
static unsigned char copy_unescape(unsigned char c)
{
	switch (c) {
	case 'b': return '\b';
	case 'f': return '\f';
	case 'n': return '\n';
	case 'r': return '\r';
	case 't': return '\t';
	case 'v': return '\v';
	default: return c;
	}
}

/* Convert COPY text from *pp to o, up to the end of the field or stop (or one byte past stop, to
 * finish an escape); o has room for MAX_GROWTH bytes per input byte. Returns the new o and
 * advances *pp. A backslash never takes the row's newline with it. */
typedef char *convert_fn(char *o, const unsigned char **pp, const unsigned char *stop);

/* Into the body of a JSON string. */
static char *string_run(char *o, const unsigned char **pp, const unsigned char *stop)
{
	const unsigned char *p = *pp;
	while (p < stop) {
		unsigned char c = *p;
		if (is_plain(c)) { /* the common case first */
			*o++ = (char)c;
			p++;
			continue;
		}
		if (at_field_end(c))
			break;
		p++;
		if (c == '\\' && *p != '\n')
			c = copy_unescape(*p++);
		o = is_plain(c) ? (*o = (char)c, o + 1) : put_escape(o, c);
	}
	*pp = p;
	return o;
}

/* Numbers, and json text as it is, but a line break between json tokens (inside its strings a
 * line break is always escaped) becomes a space: one row, one line. */
static char *raw_run(char *o, const unsigned char **pp, const unsigned char *stop)
{
	const unsigned char *p = *pp;
	while (p < stop && !at_field_end(*p)) {
		unsigned char c = *p++;
		if (c == '\\' && *p != '\n')
			c = copy_unescape(*p++);
		*o++ = (char)(c == '\n' || c == '\r' ? ' ' : c);
	}
	*pp = p;
	return o;
}

/* The rest of a field of any size, converted in runs that fit the room left in the buffer. */
static char *put_converted(struct ndjson *w, char *o, const unsigned char **pp, const unsigned char *end,
                           convert_fn *convert)
{
	for (;;) {
		size_t fits = (size_t)(w->data + OUT_SIZE - o) / MAX_GROWTH;
		if (fits >= 2) { /* fits - 1: a run may end one byte past stop, inside an escape */
			const unsigned char *stop = (size_t)(end - *pp) < fits - 1 ? end : *pp + fits - 1;
			o = convert(o, pp, stop);
			if (*pp >= end || at_field_end(**pp))
				return o;
		}
		o = room_for(w, o, OUT_SIZE);
	}
}

static char *put_string(struct ndjson *w, char *o, const unsigned char **pp, const unsigned char *end)
{
	o = room_for(w, o, 1);
	*o++ = '"';
	o = put_converted(w, o, pp, end, string_run);
	o = room_for(w, o, 1);
	*o++ = '"';
	return o;
}

/* Column col's key and value, from the field at *pp; *pp ends at the tab or newline after it. */
static char *put_field(struct ndjson *w, char *o, const struct ndjson_col *col, const unsigned char **pp,
                       const unsigned char *end)
{
	const unsigned char *v = *pp;
	o = room_for(w, o, col->key_len + sizeof "false");
	o = copy_small(o, w->keys.data + col->key_off, col->key_len);
	if (v[0] == '\\' && v[1] == 'N' && at_field_end(v[2])) {
		*pp = v + 2;
		return copy_small(o, "null", 4);
	}
	switch (col->kind) {
	case KIND_BOOL: *pp = v + 1; return v[0] == 't' ? copy_small(o, "true", 4) : copy_small(o, "false", 5);
	case KIND_DECIMAL:
		/* NaN, Infinity and -Infinity are the only outputs that do not start with a digit. */
		if (v[0] == 'N' || v[0] == 'I' || (v[0] == '-' && v[1] == 'I'))
			return put_string(w, o, pp, end);
		return put_converted(w, o, pp, end, raw_run);
	case KIND_INTEGER:
	case KIND_JSON: return put_converted(w, o, pp, end, raw_run);
	case KIND_STRING: return put_string(w, o, pp, end);
	}
	return o;
}

/* Each column's key, '{"name":' or ',"name":', escaped once for all rows. */
static void learn_columns(struct ndjson *w, const PGresult *desc)
{
	w->ncols = PQnfields(desc);
	w->cols = xmalloc(sizeof *w->cols * (size_t)(w->ncols ? w->ncols : 1));
	for (int c = 0; c < w->ncols; c++) {
		const unsigned char *name = (const unsigned char *)PQfname(desc, c);
		char *key = xmalloc(MAX_GROWTH * strlen((const char *)name) + 4), *o = key;
		*o++ = c == 0 ? '{' : ',';
		*o++ = '"';
		for (; *name; name++)
			o = is_plain(*name) ? (*o = (char)*name, o + 1) : put_escape(o, *name);
		*o++ = '"';
		*o++ = ':';
		w->cols[c].kind = kind_of(PQftype(desc, c));
		w->cols[c].key_off = w->keys.len;
		w->cols[c].key_len = (size_t)(o - key);
		buf_append(&w->keys, key, (size_t)(o - key));
		free(key);
	}
}

void ndjson_init(struct ndjson *w, FILE *out, const PGresult *desc)
{
	*w = (struct ndjson){ .out = out, .data = xmalloc(OUT_SIZE), .keys = BUF_INIT };
	learn_columns(w, desc);
}

int ndjson_copy_row(void *writer, const char *row, size_t len)
{
	struct ndjson *w = writer;
	if (len == 0 || row[len - 1] != '\n')
		return w->error = EPROTO;
	const unsigned char *p = (const unsigned char *)row, *end = p + len - 1; /* the newline */
	char *o = w->data + w->len;
	for (int c = 0; c < w->ncols; c++) {
		if (c > 0 && *p++ != '\t')
			break;
		o = put_field(w, o, &w->cols[c], &p, end);
	}
	o = room_for(w, o, 3);
	if (w->ncols == 0)
		*o++ = '{';
	*o++ = '}';
	*o++ = '\n';
	w->len = (size_t)(o - w->data);
	if (p != end && !w->error) /* not the described columns */
		w->error = EPROTO;
	return w->error;
}

int ndjson_finish(struct ndjson *w)
{
	flush(w);
	free(w->data);
	buf_free(&w->keys);
	free(w->cols);
	w->data = NULL;
	w->cols = NULL;
	return w->error;
}
