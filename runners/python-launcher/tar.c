/* tar: header parsing (ustar, pax, GNU long names), name checks and a safe extractor. */
#include "tar.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK    512
#define META_MAX 1048576 /* a pax header or GNU long name larger than this is refused */

__attribute__((format(printf, 2, 3))) static int fail(struct tar_reader *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof r->err, fmt, ap); /* NOLINT(clang-analyzer-valist.Uninitialized): false positive of
	                                              clang-tidy 14 when it analyses several files */
	va_end(ap);
	return -1;
}

void tar_reader_init(struct tar_reader *r, tar_read_fn read, void *ctx, const struct tar_limits *limits)
{
	memset(r, 0, sizeof *r);
	r->read = read;
	r->ctx = ctx;
	r->limits = *limits;
}

/* Exactly n bytes, or -1: a short read is a truncated archive. */
static int read_full(struct tar_reader *r, void *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t k = r->read(r->ctx, (char *)buf + got, n - got);
		if (k < 0)
			return r->err[0] ? -1 : fail(r, "cannot read the archive");
		if (k == 0)
			return fail(r, "the archive is truncated");
		got += (size_t)k;
	}
	return 0;
}

static int skip(struct tar_reader *r, uint64_t n)
{
	char buf[4096];
	while (n > 0) {
		size_t k = n < sizeof buf ? (size_t)n : sizeof buf;
		if (read_full(r, buf, k) < 0)
			return -1;
		n -= k;
	}
	return 0;
}

/* An octal field (spaces or NULs around it), or base-256 when the high bit is set. */
static int parse_number(const unsigned char *f, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	if (f[0] & 0x80) {
		if (f[0] & 0x40)
			return -1; /* negative */
		for (size_t i = 0; i < len; i++) {
			if (v >> 55)
				return -1;
			v = (v << 8) | (i == 0 ? (f[0] & 0x3f) : f[i]);
		}
		*out = v;
		return 0;
	}
	size_t i = 0;
	while (i < len && f[i] == ' ')
		i++;
	for (; i < len && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v >> 60)
			return -1;
		v = v * 8 + (uint64_t)(f[i] - '0');
	}
	for (; i < len; i++)
		if (f[i] != ' ' && f[i] != '\0')
			return -1;
	*out = v;
	return 0;
}

static bool checksum_ok(const unsigned char *h)
{
	uint64_t want;
	if (parse_number(h + 148, 8, &want) < 0)
		return false;
	uint64_t sum = 0;
	for (int i = 0; i < BLOCK; i++)
		sum += (i >= 148 && i < 156) ? ' ' : h[i];
	return sum == want;
}

/* Relative, no "..", no empty result (except for a directory: "." is the root and is skipped).
 * "./" parts, repeated and trailing slashes are dropped. */
static int normalise(const char *in, char out[TAR_PATH_MAX])
{
	if (in[0] == '/')
		return -1;
	size_t o = 0;
	const char *p = in;
	while (*p) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return -1;
		if (n > 0 && !(n == 1 && p[0] == '.')) {
			if (o + n + 2 > TAR_PATH_MAX)
				return -1;
			if (o)
				out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p += n + (end ? 1 : 0);
	}
	out[o] = '\0';
	return 0;
}

int tar_symlink_ok(const char *path, const char *target)
{
	if (!target[0] || target[0] == '/')
		return 0;
	long depth = 0; /* folders above the link: the parts of its path but the last */
	for (const char *p = path; *p; p++)
		depth += *p == '/';
	bool climbing = true;
	const char *p = target;
	while (*p) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		bool up = n == 2 && p[0] == '.' && p[1] == '.';
		if (up && (!climbing || --depth < 0))
			return 0;
		if (!up && n > 0 && !(n == 1 && p[0] == '.'))
			climbing = false;
		p += n + (end ? 1 : 0);
	}
	return 1;
}

struct meta {
	char *path, *link; /* from pax or GNU long-name entries, for the next entry */
	bool has_size;
	uint64_t size;
};

static void meta_free(struct meta *m)
{
	free(m->path);
	free(m->link);
	memset(m, 0, sizeof *m);
}

static int set_string(char **dst, const char *s, size_t n)
{
	if (memchr(s, '\0', n))
		return -1;
	free(*dst);
	*dst = strndup(s, n);
	return 0;
}

/* Pax records: "LEN key=value\n", LEN counting the whole record. */
static int parse_pax(struct tar_reader *r, const char *d, size_t len, struct meta *m)
{
	size_t pos = 0;
	while (pos < len) {
		size_t reclen = 0, i = pos;
		while (i < len && d[i] >= '0' && d[i] <= '9' && reclen < len)
			reclen = reclen * 10 + (size_t)(d[i++] - '0');
		if (i == pos || i >= len || d[i] != ' ' || reclen > len - pos || reclen < i - pos + 3 ||
		    d[pos + reclen - 1] != '\n')
			return fail(r, "a pax header is malformed");
		const char *kv = d + i + 1, *end = d + pos + reclen - 1, *eq = memchr(kv, '=', (size_t)(end - kv));
		if (!eq)
			return fail(r, "a pax record has no '='");
		size_t klen = (size_t)(eq - kv), vlen = (size_t)(end - eq - 1);
		int rc = 0;
		if (klen == 4 && memcmp(kv, "path", 4) == 0)
			rc = set_string(&m->path, eq + 1, vlen);
		else if (klen == 8 && memcmp(kv, "linkpath", 8) == 0)
			rc = set_string(&m->link, eq + 1, vlen);
		else if (klen == 4 && memcmp(kv, "size", 4) == 0) {
			char num[32];
			char *stop;
			if (vlen == 0 || vlen >= sizeof num)
				return fail(r, "a pax size is malformed");
			memcpy(num, eq + 1, vlen);
			num[vlen] = '\0';
			m->size = strtoull(num, &stop, 10);
			m->has_size = *stop == '\0' && num[0] != '-';
			if (!m->has_size)
				return fail(r, "a pax size is malformed");
		}
		if (rc < 0)
			return fail(r, "a pax name holds a NUL byte");
		pos += reclen;
	}
	return 0;
}

/* The data of a pax header or a GNU long name, read whole. */
static int read_meta(struct tar_reader *r, const unsigned char *h, uint64_t size, struct meta *m)
{
	if (size > META_MAX)
		return fail(r, "a pax header or long name of %llu bytes is too large", (unsigned long long)size);
	char *d = malloc(size + 1);
	if (!d)
		return fail(r, "out of memory");
	int rc = read_full(r, d, (size_t)size);
	if (rc == 0)
		rc = skip(r, (BLOCK - size % BLOCK) % BLOCK);
	size_t n = (size_t)size;
	if (rc == 0 && h[156] == 'x')
		rc = parse_pax(r, d, n, m);
	else if (rc == 0 && (h[156] == 'L' || h[156] == 'K')) {
		while (n > 0 && d[n - 1] == '\0')
			n--;
		if (set_string(h[156] == 'L' ? &m->path : &m->link, d, n) < 0)
			rc = fail(r, "a GNU long name holds a NUL byte");
	}
	free(d); /* 'g' (global pax) records are read and ignored */
	return rc;
}

static int entry_type(char flag, enum tar_type *t)
{
	switch (flag) {
	case '0':
	case '\0':
	case '7': *t = TAR_FILE; return 0;
	case '5': *t = TAR_DIR; return 0;
	case '2': *t = TAR_SYMLINK; return 0;
	case '1': *t = TAR_HARDLINK; return 0;
	default: return -1;
	}
}

/* The name from the header: ustar prefix + name, unless pax or GNU gave one. */
static void header_name(const unsigned char *h, const char *override, char *out, size_t outlen)
{
	if (override) {
		snprintf(out, outlen, "%s", override);
		return;
	}
	bool ustar = memcmp(h + 257, "ustar", 5) == 0;
	if (ustar && h[345])
		snprintf(out, outlen, "%.155s/%.100s", (const char *)h + 345, (const char *)h);
	else
		snprintf(out, outlen, "%.100s", (const char *)h);
}

/* Check and fill one real entry from its header. Returns 1, 0 to skip it, -1 on error. */
static int fill_entry(struct tar_reader *r, const unsigned char *h, const struct meta *m, struct tar_entry *e)
{
	char raw[TAR_PATH_MAX + 300];
	header_name(h, m->path, raw, sizeof raw);
	if (entry_type((char)h[156], &e->type) < 0)
		return fail(r, "entry '%.200s': type '%c' is not allowed (device, FIFO or unknown)", raw,
		            h[156] >= 32 && h[156] < 127 ? h[156] : '?');
	if (strlen(raw) >= TAR_PATH_MAX || normalise(raw, e->path) < 0)
		return fail(r, "entry '%.200s': absolute path, '..' or name too long", raw);
	if (!e->path[0])
		return e->type == TAR_DIR ? 0 : fail(r, "an entry has an empty name");
	uint64_t mode = 0;
	if (parse_number(h + 100, 8, &mode) < 0 || (!m->has_size && parse_number(h + 124, 12, &e->size) < 0))
		return fail(r, "entry '%.200s': a number field is malformed", raw);
	if (m->has_size)
		e->size = m->size;
	e->mode = (unsigned)(mode & 07777);
	if (m->link)
		snprintf(raw, sizeof raw, "%s", m->link);
	else
		snprintf(raw, sizeof raw, "%.100s", (const char *)h + 157); /* linkname */
	if (strlen(raw) >= TAR_PATH_MAX)
		return fail(r, "entry '%.200s': link target too long", e->path);
	memcpy(e->link, raw, strlen(raw) + 1);
	if (e->type == TAR_SYMLINK && !tar_symlink_ok(e->path, e->link))
		return fail(r, "entry '%.200s': symlink to '%.200s' leaves the tree", e->path, e->link);
	if (e->type == TAR_HARDLINK && (normalise(raw, e->link) < 0 || !e->link[0]))
		return fail(r, "entry '%.200s': hardlink to '%.200s' leaves the tree", e->path, raw);
	if (e->type == TAR_FILE && e->size > r->limits.max_entry_size)
		return fail(r, "entry '%.200s': %llu bytes, over the limit of %llu", e->path,
		            (unsigned long long)e->size, (unsigned long long)r->limits.max_entry_size);
	return 1;
}

static bool all_zero(const unsigned char *b)
{
	for (int i = 0; i < BLOCK; i++)
		if (b[i])
			return false;
	return true;
}

/* Read headers until a real entry: 1, 0 at the end marker, -1 on error. */
static int next_header(struct tar_reader *r, struct tar_entry *e, struct meta *m)
{
	unsigned char h[BLOCK];
	for (;;) {
		if (read_full(r, h, BLOCK) < 0)
			return r->total || r->entries ? fail(r, "the archive is truncated (no end marker)") : -1;
		if (all_zero(h))
			return 0;
		if (!checksum_ok(h))
			return fail(r, "a header checksum is wrong: not a tar archive, or corrupt");
		uint64_t size;
		if (parse_number(h + 124, 12, &size) < 0)
			return fail(r, "a header size is malformed");
		if (h[156] == 'x' || h[156] == 'g' || h[156] == 'L' || h[156] == 'K') {
			if (read_meta(r, h, size, m) < 0)
				return -1;
			continue;
		}
		int rc = fill_entry(r, h, m, e);
		if (rc < 0)
			return -1;
		uint64_t data = e->type == TAR_FILE ? e->size : (m->has_size ? m->size : size);
		meta_free(m);
		r->left = data;
		r->padding = (BLOCK - data % BLOCK) % BLOCK;
		if (rc == 1)
			return 1;
		if (skip(r, r->left + r->padding) < 0)
			return -1;
		r->left = r->padding = 0;
	}
}

int tar_next(struct tar_reader *r, struct tar_entry *e)
{
	if (skip(r, r->left + r->padding) < 0)
		return -1;
	r->left = r->padding = 0;
	struct meta m = { 0 };
	memset(e, 0, sizeof *e);
	int rc = next_header(r, e, &m);
	meta_free(&m);
	if (rc != 1)
		return rc;
	if (++r->entries > r->limits.max_entries)
		return fail(r, "more than %lu entries", r->limits.max_entries);
	if (e->type == TAR_FILE) {
		r->total += e->size;
		if (r->total > r->limits.max_total_size)
			return fail(r, "the files add up to more than %llu bytes",
			            (unsigned long long)r->limits.max_total_size);
	}
	return 1;
}

ssize_t tar_read_data(struct tar_reader *r, void *buf, size_t n)
{
	if (r->left == 0)
		return 0;
	if (n > r->left)
		n = (size_t)r->left;
	if (read_full(r, buf, n) < 0)
		return -1;
	r->left -= n;
	return (ssize_t)n;
}
