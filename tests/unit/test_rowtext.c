/* Unit tests of sqlserver-runner's CSV/TSV/NDJSON rows (rowtext.h). */
#include "rowtext.h"
#include "tt.h"

/* Write rows of (text or NULL) values with the given format; return what came out. */
static char *write_rows(enum row_format format, const char *null, const char *const *names, size_t ncols,
                        const char *const *values, const enum row_kind *kinds, size_t nrows)
{
	FILE *out = fopen(tt_path("out"), "w");
	struct row_writer w;
	row_writer_init(&w, format, null, out);
	row_writer_columns(&w, names, ncols);
	CHECK_INT(row_write_header(&w), 0);
	for (size_t r = 0; r < nrows; r++) {
		for (size_t c = 0; c < ncols; c++) {
			const char *v = values[r * ncols + c];
			if (v)
				row_value(&w, v, strlen(v), kinds ? kinds[c] : ROW_STRING);
			else
				row_null(&w);
		}
		CHECK_INT(row_end(&w), 0);
	}
	row_writer_free(&w);
	fclose(out);
	return tt_read(tt_path("out"));
}

static void csv_quoting(void)
{
	static const char *const names[] = { "id", "a,b" };
	static const char *const values[] = { "1", "plain", "2", "say \"hi\"", "3", "", "4", NULL, "5", "two\nlines" };
	char *text = write_rows(ROW_CSV, NULL, names, 2, values, NULL, 5);
	CHECK_STR(text, "id,\"a,b\"\n1,plain\n2,\"say \"\"hi\"\"\"\n3,\"\"\n4,\n5,\"two\nlines\"\n");
	free(text);
	/* A value equal to the NULL text is quoted. */
	static const char *const nulls[] = { "NULL", NULL };
	text = write_rows(ROW_CSV, "NULL", names, 1, nulls, NULL, 2);
	CHECK_STR(text, "id\n\"NULL\"\nNULL\n");
	free(text);
}

static void tsv_escapes(void)
{
	static const char *const names[] = { "a", "b" };
	static const char *const values[] = { "tab\there", "back\\slash\r\n", NULL, "" };
	char *text = write_rows(ROW_TSV, NULL, names, 2, values, NULL, 2);
	CHECK_STR(text, "a\tb\ntab\\there\tback\\\\slash\\r\\n\n\\N\t\n");
	free(text);
}

static void ndjson_values(void)
{
	static const char *const names[] = { "n", "s", "b", "\"odd\"" };
	static const enum row_kind kinds[] = { ROW_LITERAL, ROW_STRING, ROW_LITERAL, ROW_STRING };
	static const char *const values[] = { "-1.50", "\xc3\xa9t\xc3\xa9 \"q\" \\ \x01\n", "true", NULL };
	char *text = write_rows(ROW_NDJSON, NULL, names, 4, values, kinds, 1);
	CHECK_STR(text, "{\"n\":-1.50,\"s\":\"\xc3\xa9t\xc3\xa9 \\\"q\\\" \\\\ "
	                "\\u0001\\n\",\"b\":true,\"\\\"odd\\\"\":null}\n");
	free(text);
}

/* Read text as format; each record becomes "f1|f2|..." with NULL as <null>, records joined by ';'. */
static char *read_all(const char *text, enum row_format format, const char *null, char *err, size_t errlen)
{
	tt_write(tt_path("in"), text);
	int fd = open(tt_path("in"), O_RDONLY);
	struct row_reader r;
	row_reader_init(&r, fd, format, null);
	struct buf out = BUF_INIT;
	int rc;
	buf_puts(&out, "");
	while ((rc = row_read(&r, err, errlen)) == 1) {
		buf_printf(&out, "%lu:", r.line);
		for (size_t i = 0; i < r.nfields; i++) {
			if (i)
				buf_putc(&out, '|');
			if (r.is_null[i])
				buf_puts(&out, "<null>");
			else
				buf_append(&out, r.rec.data + r.start[i], r.len[i]);
			CHECK_INT(r.rec.data[r.start[i] + r.len[i]], '\0');
		}
		buf_putc(&out, ';');
	}
	row_reader_free(&r);
	close(fd);
	if (rc < 0) {
		buf_free(&out);
		return NULL;
	}
	return buf_detach(&out);
}

static void csv_reading(void)
{
	char err[256] = "";
	char *got = read_all("id,name\r\n1,\"a,b\"\n2,\"multi\nline \"\"q\"\"\"\n3,\n4,\"\"\n,x", ROW_CSV, NULL, err,
	                     sizeof err);
	CHECK_STR(got, "1:id|name;2:1|a,b;3:2|multi\nline \"q\";5:3|<null>;6:4|;7:<null>|x;");
	free(got);
	got = read_all("1,NULL,\"NULL\"\n", ROW_CSV, "NULL", err, sizeof err);
	CHECK_STR(got, "1:1|<null>|NULL;");
	free(got);
	got = read_all("", ROW_CSV, NULL, err, sizeof err);
	CHECK_STR(got, "");
	free(got);
	got = read_all("\n", ROW_CSV, NULL, err, sizeof err);
	CHECK_STR(got, "1:<null>;");
	free(got);
}

static void csv_errors(void)
{
	char err[256];
	CHECK(read_all("1,\"open\n2,x\n", ROW_CSV, NULL, err, sizeof err) == NULL);
	CHECK_STR(err, "line 1: a quoted field is not closed by the end of the input");
	CHECK(read_all("1,ok\n2,\"a\"b\n", ROW_CSV, NULL, err, sizeof err) == NULL);
	CHECK_CONTAINS(err, "line 2: a quoted field must end at its closing quote");
}

static void tsv_reading(void)
{
	char err[256] = "";
	char *got = read_all("a\\tb\t\\N\tc\\\\d\\n\r\n\\x\t\t\\", ROW_TSV, NULL, err, sizeof err);
	CHECK_STR(got, "1:a\tb|<null>|c\\d\n;2:x||\\;");
	free(got);
}

/* A value spelled like the NULL text gets a backslash, so it reads back as text (a fuzzer's find). */
static void tsv_value_like_the_null_text(void)
{
	static const char *const names[] = { "a" };
	static const char *const values[] = { "NULL", NULL, "NUL" };
	char *text = write_rows(ROW_TSV, "NULL", names, 1, values, NULL, 3);
	CHECK_STR(text, "a\n\\NULL\nNULL\nNUL\n");
	char err[256] = "";
	char *got = read_all(text, ROW_TSV, "NULL", err, sizeof err);
	CHECK_STR(err, "");
	CHECK_STR(got, "1:a;2:NULL;3:<null>;4:NUL;");
	free(got);
	free(text);
}

static void round_trip(void)
{
	static const char *const names[] = { "a", "b", "c" };
	static const char *const values[] = { "x,\"y\"\n", NULL, "\\N", "\t\r\\", "", "z" };
	for (int f = ROW_CSV; f <= ROW_TSV; f++) {
		char *text = write_rows((enum row_format)f, NULL, names, 3, values, NULL, 2);
		char err[256] = "";
		char *got = read_all(text, (enum row_format)f, NULL, err, sizeof err);
		CHECK_STR(err, "");
		CHECK_STR(got, f == ROW_CSV ? "1:a|b|c;2:x,\"y\"\n|<null>|\\N;4:\t\r\\||z;"
		                            : "1:a|b|c;2:x,\"y\"\n|<null>|\\N;3:\t\r\\||z;");
		free(text);
		free(got);
	}
}

static void formats(void)
{
	CHECK_INT(row_format_parse("csv", false), ROW_CSV);
	CHECK_INT(row_format_parse("tsv", false), ROW_TSV);
	CHECK_INT(row_format_parse("ndjson", false), -1);
	CHECK_INT(row_format_parse("ndjson", true), ROW_NDJSON);
	CHECK_INT(row_format_parse("CSV", true), -1);
}

TT_MAIN(TT_CASE(csv_quoting), TT_CASE(tsv_escapes), TT_CASE(tsv_value_like_the_null_text), TT_CASE(ndjson_values),
        TT_CASE(csv_reading), TT_CASE(csv_errors), TT_CASE(tsv_reading), TT_CASE(round_trip), TT_CASE(formats))
