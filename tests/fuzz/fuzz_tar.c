/* libFuzzer target: python-launcher's tar reader (tar.h). Every entry it accepts must carry a
 * name that is relative and free of "..", a symlink target that stays inside, and sizes within
 * the limits; reading the data must never go past what the header announced. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	const uint8_t *d;
	size_t len, pos;
};

static ssize_t read_input(void *ctx, void *buf, size_t n)
{
	struct input *in = ctx;
	if (n > in->len - in->pos)
		n = in->len - in->pos;
	memcpy(buf, in->d + in->pos, n);
	in->pos += n;
	return (ssize_t)n;
}

/* Relative, no empty, "." or ".." part. */
static int clean_path(const char *p)
{
	if (!*p || *p == '/')
		return 0;
	for (;;) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (!end)
			return 1;
		p = end + 1;
	}
}

static void check_entry(const struct tar_entry *e, const struct tar_limits *lim)
{
	if (!clean_path(e->path))
		abort();
	if (e->type == TAR_SYMLINK && !tar_symlink_ok(e->path, e->link))
		abort();
	if (e->type == TAR_HARDLINK && !clean_path(e->link))
		abort();
	if (e->type == TAR_FILE && e->size > lim->max_entry_size)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct tar_limits lim = { 4096, 16384, 64 };
	struct input in = { data, size, 0 };
	struct tar_reader r;
	tar_reader_init(&r, read_input, &in, &lim);
	struct tar_entry e;
	char buf[700];
	while (tar_next(&r, &e) == 1) {
		check_entry(&e, &lim);
		uint64_t got = 0;
		ssize_t n;
		while ((n = tar_read_data(&r, buf, sizeof buf)) > 0)
			got += (uint64_t)n;
		if (n == 0 && e.type == TAR_FILE && got != e.size)
			abort();
	}
	return 0;
}
