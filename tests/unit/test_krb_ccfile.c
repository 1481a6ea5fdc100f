/* Unit tests: ticket-sharer's strict FILE ticket cache parser (runners/ticket-sharer/ccfile.c).
 *
 * Caches are built byte by byte here (format v4 and v3), so the cases need no KDC. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sharer.h"
#include "tt.h"

struct bytes {
	unsigned char data[4096];
	size_t len;
};

static void put(struct bytes *b, uint32_t v, int n)
{
	for (int i = n - 1; i >= 0; i--)
		b->data[b->len++] = (unsigned char)(v >> (8 * i));
}

static void counted(struct bytes *b, const char *s)
{
	put(b, (uint32_t)strlen(s), 4);
	memcpy(b->data + b->len, s, strlen(s));
	b->len += strlen(s);
}

static void principal(struct bytes *b, const char *realm, const char *c1, const char *c2)
{
	put(b, 1, 4);
	put(b, c2 ? 2 : 1, 4);
	counted(b, realm);
	counted(b, c1);
	if (c2)
		counted(b, c2);
}

static void entry(struct bytes *b, int version, const char *server1, const char *server2)
{
	principal(b, "EXAMPLE.COM", "alice", NULL);
	principal(b, "EXAMPLE.COM", server1, server2);
	put(b, 18, 2); /* enctype */
	if (version == 3)
		put(b, 18, 2);
	counted(b, "0123456789abcdef0123456789abcdef");
	for (int i = 0; i < 4; i++)
		put(b, 1700000000u + (uint32_t)i, 4);
	put(b, 0, 1);
	put(b, 0x40e10000, 4);
	put(b, 1, 4); /* one address */
	put(b, 2, 2);
	counted(b, "\x7f\x01\x01\x01");
	put(b, 0, 4); /* no authdata */
	counted(b, "ticket-bytes");
	counted(b, "");
}

static struct bytes cache(int version, int entries)
{
	struct bytes b = { .len = 0 };
	put(&b, version == 3 ? 0x0503 : 0x0504, 2);
	if (version == 4) {
		put(&b, 12, 2); /* header: one tag of 8 bytes (KDC time offset) */
		put(&b, 1, 2);
		put(&b, 8, 2);
		put(&b, 0, 4);
		put(&b, 0, 4);
	}
	principal(&b, "EXAMPLE.COM", "alice", NULL);
	for (int i = 0; i < entries; i++)
		entry(&b, version, i == 0 ? "krbtgt" : "HTTP", i == 0 ? "EXAMPLE.COM" : "web.example.com");
	return b;
}

static char err[256];
static size_t n;

static void complete_caches_parse(void)
{
	for (int v = 3; v <= 4; v++) {
		for (int e = 0; e <= 3; e++) {
			struct bytes b = cache(v, e);
			CHECK_INT(ccfile_parse(b.data, b.len, &n, err, sizeof err), 0);
			CHECK_INT((int)n, e);
		}
	}
}

static void every_truncation_is_refused(void)
{
	for (int v = 3; v <= 4; v++) {
		struct bytes b = cache(v, 2);
		for (size_t len = 0; len < b.len; len++) {
			int rc = ccfile_parse(b.data, len, &n, err, sizeof err);
			/* a cut exactly between two entries is a shorter complete cache: libkrb5 agrees, and the
			 * libkrb5 check that follows in cachefile_check refuses it when the TGT is gone */
			struct bytes one = cache(v, 1), none = cache(v, 0);
			if (len == one.len || len == none.len)
				CHECK_INT(rc, 0);
			else
				CHECK_INT(rc, -1);
		}
	}
}

static void trailing_garbage_is_refused(void)
{
	struct bytes b = cache(4, 1);
	memcpy(b.data + b.len, "\x00\x00\x00\x01", 4);
	b.len += 4;
	CHECK_INT(ccfile_parse(b.data, b.len, &n, err, sizeof err), -1);
	CHECK_CONTAINS(err, "entry 2");
}

static void empty_and_foreign_files_are_refused(void)
{
	CHECK_INT(ccfile_parse((const unsigned char *)"", 0, &n, err, sizeof err), -1);
	CHECK_CONTAINS(err, "empty");
	CHECK_INT(ccfile_parse((const unsigned char *)"\x05\x02xx", 4, &n, err, sizeof err), -1);
	CHECK_CONTAINS(err, "0x0502");
	CHECK_INT(ccfile_parse((const unsigned char *)"{\"json\": 1}", 11, &n, err, sizeof err), -1);
	CHECK_INT(ccfile_parse((const unsigned char *)"\x05", 1, &n, err, sizeof err), -1);
}

static void huge_lengths_do_not_overflow(void)
{
	struct bytes b = cache(4, 1);
	b.data[b.len - 20] = 0xff; /* the ticket's length: 0xff00000c, far past the end */
	CHECK_INT(ccfile_parse(b.data, b.len, &n, err, sizeof err), -1);
	struct bytes h = cache(4, 0);
	h.data[2] = 0xff; /* header length past the end */
	h.data[3] = 0xff;
	CHECK_INT(ccfile_parse(h.data, h.len, &n, err, sizeof err), -1);
}

TT_MAIN(TT_CASE(complete_caches_parse), TT_CASE(every_truncation_is_refused), TT_CASE(trailing_garbage_is_refused),
        TT_CASE(empty_and_foreign_files_are_refused), TT_CASE(huge_lengths_do_not_overflow))
