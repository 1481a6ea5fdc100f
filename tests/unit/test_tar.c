/* Unit tests: the python-launcher tar reader and extractor, on archives built here byte by byte
 * (ustar headers, pax and GNU long names) and on every escape it must refuse. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tar.h"
#include "tt.h"

struct ar {
	char d[1 << 18];
	size_t len, pos;
};

static void ar_header(struct ar *a, const char *name, char type, const char *link, size_t size, unsigned mode)
{
	unsigned char *h = (unsigned char *)a->d + a->len;
	memset(h, 0, 512);
	snprintf((char *)h, 100, "%s", name);
	snprintf((char *)h + 100, 8, "%07o", mode);
	snprintf((char *)h + 124, 12, "%011zo", size);
	h[156] = (unsigned char)type;
	if (link)
		snprintf((char *)h + 157, 100, "%s", link);
	memcpy(h + 257,
	       "ustar\0"
	       "00",
	       8);
	unsigned sum = 0;
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	a->len += 512;
}

static void ar_add(struct ar *a, const char *name, char type, const char *link, const char *data, size_t size)
{
	ar_header(a, name, type, link, size, 0644);
	memset(a->d + a->len, 0, (size + 511) / 512 * 512);
	if (data)
		memcpy(a->d + a->len, data, size);
	a->len += (size + 511) / 512 * 512;
}

static void ar_end(struct ar *a)
{
	memset(a->d + a->len, 0, 1024);
	a->len += 1024;
}

static ssize_t ar_read(void *ctx, void *buf, size_t n)
{
	struct ar *a = ctx;
	if (n > a->len - a->pos)
		n = a->len - a->pos;
	memcpy(buf, a->d + a->pos, n);
	a->pos += n;
	return (ssize_t)n;
}

static const struct tar_limits limits = { 1 << 20, 4 << 20, 100 };

/* Extract into tt_dir/out; returns tar_extract's result and leaves the message in err. */
static int extract(struct ar *a, char *err, size_t errlen)
{
	char out[400];
	snprintf(out, sizeof out, "%s/out", tt_dir);
	mkdir(out, 0755);
	int fd = open(out, O_RDONLY | O_DIRECTORY);
	struct tar_reader r;
	a->pos = 0;
	tar_reader_init(&r, ar_read, a, &limits);
	int rc = tar_extract(&r, fd);
	close(fd);
	snprintf(err, errlen, "%s", r.err);
	return rc;
}

static char *out_path(const char *rel)
{
	static char p[600];
	snprintf(p, sizeof p, "%s/out/%s", tt_dir, rel);
	return p;
}

/* A file next to the target folder: it must never be written or replaced. */
static void plant_outside(void)
{
	char p[400];
	snprintf(p, sizeof p, "%s/victim", tt_dir);
	tt_write(p, "untouched");
}

static int outside_untouched(void)
{
	char p[400];
	snprintf(p, sizeof p, "%s/victim", tt_dir);
	char *t = tt_read(p);
	int ok = t && strcmp(t, "untouched") == 0;
	free(t);
	snprintf(p, sizeof p, "%s/evil", tt_dir);
	return ok && access(p, F_OK) < 0;
}

static void good_archive_extracts(void)
{
	static struct ar a;
	ar_add(&a, "./", '5', NULL, NULL, 0);
	ar_add(&a, "pkg/", '5', NULL, NULL, 0);
	ar_add(&a, "pkg/main.py", '0', NULL, "print('hi')\n", 12);
	ar_header(&a, "run.sh", '0', NULL, 3, 0755);
	memcpy(a.d + a.len, "x\n\n", 3);
	a.len += 512;
	ar_header(&a, "pkg/link.py", '2', "main.py", 0, 0777);
	ar_add(&a, "deep/er/up.py", '2', "../../pkg/main.py", NULL, 0);
	ar_add(&a, "hard.py", '1', "pkg/main.py", NULL, 0);
	ar_end(&a);
	char err[512];
	CHECK_INT(extract(&a, err, sizeof err), 0);
	CHECK_STR(err, "");
	char *t = tt_read(out_path("pkg/main.py"));
	CHECK_STR(t, "print('hi')\n");
	free(t);
	t = tt_read(out_path("deep/er/up.py"));
	CHECK_STR(t, "print('hi')\n");
	free(t);
	t = tt_read(out_path("hard.py"));
	CHECK_STR(t, "print('hi')\n");
	free(t);
	struct stat st;
	CHECK(stat(out_path("run.sh"), &st) == 0 && (st.st_mode & 0111));
	CHECK(lstat(out_path("pkg/link.py"), &st) == 0 && S_ISLNK(st.st_mode));
}

static void refuse(struct ar *a, const char *want)
{
	plant_outside();
	ar_end(a);
	char err[512];
	CHECK_INT(extract(a, err, sizeof err), -1);
	CHECK_CONTAINS(err, want);
	CHECK(outside_untouched());
}

static void absolute_path_refused(void)
{
	static struct ar a;
	char name[300];
	snprintf(name, sizeof name, "%s/evil", tt_dir);
	ar_add(&a, name, '0', NULL, "x", 1);
	refuse(&a, "absolute path");
}

static void dotdot_refused(void)
{
	static struct ar a;
	ar_add(&a, "../evil", '0', NULL, "x", 1);
	refuse(&a, "'..'");
	static struct ar b;
	ar_add(&b, "a/../../evil", '0', NULL, "x", 1);
	refuse(&b, "'..'");
}

static void escaping_symlinks_refused(void)
{
	static const char *targets[] = { "../victim", "/etc/passwd", "a/../../victim", "./../victim", "x/../..", "" };
	for (size_t i = 0; i < sizeof targets / sizeof *targets; i++) {
		static struct ar a;
		a.len = 0;
		ar_add(&a, "evil", '2', targets[i], NULL, 0);
		refuse(&a, i == 5 ? "leaves the tree" : "symlink to");
	}
	CHECK(tar_symlink_ok("a/b/l", "../../x"));
	CHECK(!tar_symlink_ok("a/b/l", "../../../x"));
	CHECK(tar_symlink_ok("l", "./x/y"));
	CHECK(!tar_symlink_ok("a/l", "x/../../y"));
}

static void writing_through_a_symlink_refused(void)
{
	/* "l" points inside, at ".": a later "l/.." style trick or a write through it is refused. */
	static struct ar a;
	ar_add(&a, "sub/", '5', NULL, NULL, 0);
	ar_add(&a, "l", '2', "sub", NULL, 0);
	ar_add(&a, "l/f.py", '0', NULL, "x", 1);
	refuse(&a, "cannot open its folder");
	CHECK(access(out_path("sub/f.py"), F_OK) < 0);
}

static void replacing_an_entry_refused(void)
{
	static struct ar a;
	ar_add(&a, "f", '2', "g", NULL, 0);
	ar_add(&a, "f", '0', NULL, "x", 1);
	refuse(&a, "cannot create");
}

static void escaping_hardlinks_refused(void)
{
	static struct ar a;
	ar_add(&a, "evil", '1', "../victim", NULL, 0);
	refuse(&a, "hardlink to");
	static struct ar b;
	ar_add(&b, "s", '2', "x/y", NULL, 0);
	ar_add(&b, "evil", '1', "s", NULL, 0);
	refuse(&b, "something else than a file");
	static struct ar c;
	ar_add(&c, "evil", '1', "missing", NULL, 0);
	refuse(&c, "hardlink target missing");
}

static void special_files_refused(void)
{
	static const char types[] = { '3', '4', '6', 'S', 'V' };
	for (size_t i = 0; i < sizeof types; i++) {
		static struct ar a;
		a.len = 0;
		ar_add(&a, "dev", types[i], NULL, NULL, 0);
		refuse(&a, "is not allowed");
	}
}

static void sizes_and_counts_capped(void)
{
	static struct ar a;
	ar_header(&a, "big", '0', NULL, (size_t)2 << 20, 0644);
	refuse(&a, "over the limit");
	static struct ar b;
	for (int i = 0; i < 101; i++) {
		char n[16];
		snprintf(n, sizeof n, "f%d", i);
		ar_add(&b, n, '0', NULL, "x", 1);
	}
	refuse(&b, "more than 100 entries");
}

static void corrupt_and_truncated_refused(void)
{
	static struct ar a;
	ar_add(&a, "f", '0', NULL, "hello", 5);
	a.d[0] = 'g'; /* checksum no longer matches */
	refuse(&a, "checksum");
	static struct ar b;
	ar_add(&b, "f", '0', NULL, "hello", 5);
	b.len -= 300; /* data cut short */
	char err[512];
	CHECK_INT(extract(&b, err, sizeof err), -1);
	CHECK_CONTAINS(err, "truncated");
	static struct ar c;
	ar_add(&c, "g", '0', NULL, "hello", 5); /* no end marker */
	CHECK_INT(extract(&c, err, sizeof err), -1);
	CHECK_CONTAINS(err, "truncated");
	static struct ar d;
	memcpy(d.d, "\x1f\x8b not a tar", 12);
	d.len = 512;
	refuse(&d, "checksum");
}

static void pax_and_gnu_long_names(void)
{
	static struct ar a;
	char longname[300];
	memset(longname, 'n', 250);
	memcpy(longname + 250, "/x.py", 6);
	char rec[400];
	int n = (int)strlen(longname) + (int)strlen(" path=\n");
	n += snprintf(NULL, 0, "%d", n + 3);
	snprintf(rec, sizeof rec, "%d path=%s\n", n, longname);
	ar_add(&a, "PaxHeader", 'x', NULL, rec, strlen(rec));
	ar_add(&a, "short", '0', NULL, "pax", 3);
	ar_add(&a, "././@LongLink", 'L', NULL, "gnu/long/name.py", 17);
	ar_add(&a, "gnu-short", '0', NULL, "gnu", 3);
	ar_end(&a);
	char err[512];
	CHECK_INT(extract(&a, err, sizeof err), 0);
	CHECK_STR(err, "");
	char *t = tt_read(out_path(longname));
	CHECK_STR(t, "pax");
	free(t);
	t = tt_read(out_path("gnu/long/name.py"));
	CHECK_STR(t, "gnu");
	free(t);
	static struct ar b;
	ar_add(&b, "PaxHeader", 'x', NULL, "99 path=x\n", 10);
	ar_add(&b, "f", '0', NULL, "x", 1);
	refuse(&b, "pax header is malformed");
	static struct ar c;
	ar_add(&c, "PaxHeader", 'x', NULL, "16 path=../evil\n", 16);
	ar_add(&c, "f", '0', NULL, "x", 1);
	refuse(&c, "'..'");
}

TT_MAIN(TT_CASE(good_archive_extracts), TT_CASE(absolute_path_refused), TT_CASE(dotdot_refused),
        TT_CASE(escaping_symlinks_refused), TT_CASE(writing_through_a_symlink_refused),
        TT_CASE(replacing_an_entry_refused), TT_CASE(escaping_hardlinks_refused), TT_CASE(special_files_refused),
        TT_CASE(sizes_and_counts_capped), TT_CASE(corrupt_and_truncated_refused), TT_CASE(pax_and_gnu_long_names))
