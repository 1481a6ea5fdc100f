/* ccfile: a strict parser of the FILE ticket cache format, so that a cache cut short between two
 * entries, or followed by garbage, is never mistaken for a complete one.
 *
 * Format (big-endian, versions 3 and 4; 1 and 2 are native-endian and long gone):
 *   u16 version (0x0503, 0x0504); v4 only: u16 header length, then tags {u16 tag, u16 len, data}
 *   principal: u32 name type, u32 component count, counted realm, counted components
 *   entries until the end: client and server principals, keyblock {u16 enctype (v3: twice),
 *   counted key}, u32 authtime, starttime, endtime, renew_till, u8 is_skey, u32 flags,
 *   u32 address count {u16 type, counted}, u32 authdata count {u16 type, counted},
 *   counted ticket, counted second ticket.  "counted" is u32 length + bytes. */
#include <stdio.h>

#include "sharer.h"

struct rd {
	const unsigned char *p;
	size_t len, off;
	int bad;
};

static int need(struct rd *r, size_t n)
{
	if (r->bad || r->len - r->off < n) {
		r->bad = 1;
		return 0;
	}
	return 1;
}

static uint32_t get(struct rd *r, int bytes)
{
	uint32_t v = 0;
	if (!need(r, (size_t)bytes))
		return 0;
	for (int i = 0; i < bytes; i++)
		v = v << 8 | r->p[r->off++];
	return v;
}

static void skip(struct rd *r, size_t n)
{
	if (need(r, n))
		r->off += n;
}

static void counted(struct rd *r)
{
	uint32_t n = get(r, 4);
	skip(r, n);
}

static void principal(struct rd *r)
{
	get(r, 4); /* name type */
	uint32_t n = get(r, 4);
	counted(r); /* realm */
	for (uint32_t i = 0; i < n && !r->bad; i++)
		counted(r);
}

static void typed_list(struct rd *r)
{
	uint32_t n = get(r, 4);
	for (uint32_t i = 0; i < n && !r->bad; i++) {
		get(r, 2);
		counted(r);
	}
}

static void entry(struct rd *r, int version)
{
	principal(r); /* client */
	principal(r); /* server */
	get(r, 2);    /* enctype */
	if (version == 3)
		get(r, 2);
	counted(r);    /* key */
	skip(r, 16);   /* authtime, starttime, endtime, renew_till */
	skip(r, 1);    /* is_skey */
	get(r, 4);     /* flags */
	typed_list(r); /* addresses */
	typed_list(r); /* authdata */
	counted(r);    /* ticket */
	counted(r);    /* second ticket */
}

static void header(struct rd *r)
{
	uint32_t n = get(r, 2);
	if (!need(r, n))
		return;
	struct rd h = { r->p + r->off, n, 0, 0 };
	while (h.off < h.len && !h.bad) {
		get(&h, 2);
		skip(&h, get(&h, 2));
	}
	r->bad = h.bad;
	r->off += n;
}

int ccfile_parse(const unsigned char *data, size_t len, size_t *entries, char *err, size_t errlen)
{
	struct rd r = { data, len, 0, 0 };
	*entries = 0;
	if (len == 0) {
		snprintf(err, errlen, "the file is empty");
		return -1;
	}
	uint32_t version = get(&r, 2);
	if (r.bad || (version != 0x0503 && version != 0x0504)) {
		snprintf(err, errlen, "not a ticket cache (format version 0x%04x; expected 0x0503 or 0x0504)", version);
		return -1;
	}
	if (version == 0x0504)
		header(&r);
	principal(&r);
	while (!r.bad && r.off < r.len) {
		size_t at = r.off;
		entry(&r, (int)(version & 0xff));
		if (r.bad) {
			snprintf(err, errlen, "truncated or corrupt: entry %zu at byte %zu of %zu is incomplete",
			         *entries + 1, at, len);
			return -1;
		}
		++*entries;
	}
	if (r.bad) {
		snprintf(err, errlen, "truncated or corrupt: the header ends past the file's %zu bytes", len);
		return -1;
	}
	return 0;
}
