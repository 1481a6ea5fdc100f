/* Unit tests: buf, strlist, redact. */
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "buf.h"
#include "redact.h"
#include "strlist.h"
#include "tt.h"

static void buf_empty_is_safe(void)
{
	struct buf b = BUF_INIT;
	CHECK_STR(buf_str(&b), "");
	CHECK(b.data == NULL);
	buf_reset(&b);
	CHECK_STR(buf_str(&b), "");
	char *s = buf_detach(&b);
	CHECK_STR(s, "");
	free(s);
	buf_free(&b);
}

static void buf_append_grows_and_terminates(void)
{
	struct buf b = BUF_INIT;
	for (int i = 0; i < 1000; i++)
		buf_putc(&b, (char)('a' + i % 26));
	CHECK_INT(b.len, 1000);
	CHECK_INT(strlen(buf_str(&b)), 1000);
	CHECK(b.cap > b.len);
	buf_puts(&b, "!");
	CHECK_INT(b.data[1000], '!');
	CHECK_INT(b.data[1001], '\0');
	buf_append(&b, "xyz", 0);
	CHECK_INT(b.len, 1001);
	buf_free(&b);
	CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
}

static void buf_append_binary(void)
{
	struct buf b = BUF_INIT;
	buf_append(&b, "a\0b", 3);
	CHECK_INT(b.len, 3);
	CHECK(memcmp(b.data, "a\0b", 4) == 0);
	buf_free(&b);
}

static void buf_printf_appends(void)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s=%d", "x", 42);
	buf_printf(&b, ";%05.1f", 3.14159);
	CHECK_STR(buf_str(&b), "x=42;003.1");
	char big[5000];
	memset(big, 'q', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	buf_printf(&b, "[%s]", big);
	CHECK_INT(b.len, 10 + 2 + 4999);
	CHECK_INT(b.data[b.len - 1], ']');
	buf_free(&b);
}

static void buf_reset_keeps_capacity(void)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, "hello");
	size_t cap = b.cap;
	buf_reset(&b);
	CHECK_STR(buf_str(&b), "");
	CHECK_INT(b.len, 0);
	CHECK_INT(b.cap, cap);
	buf_puts(&b, "x");
	CHECK_STR(buf_str(&b), "x");
	buf_free(&b);
}

static void buf_detach_hands_over(void)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, "mine");
	char *s = buf_detach(&b);
	CHECK_STR(s, "mine");
	CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
	free(s);
}

static void xstrndup_copies_prefix(void)
{
	char *s = xstrndup("abcdef", 3);
	CHECK_STR(s, "abc");
	free(s);
	s = xstrdup("");
	CHECK_STR(s, "");
	free(s);
	void *p = xmalloc(0);
	CHECK(p != NULL);
	p = xrealloc(p, 0);
	CHECK(p != NULL);
	free(p);
}

static void strlist_push_copies(void)
{
	struct strlist l = { 0 };
	char word[8] = "one";
	strlist_push(&l, word);
	strcpy(word, "two");
	strlist_push(&l, word);
	strlist_push(&l, "");
	CHECK_INT(l.len, 3);
	CHECK_STR(l.items[0], "one");
	CHECK_STR(l.items[1], "two");
	CHECK_STR(l.items[2], "");
	strlist_free(&l);
	CHECK(l.items == NULL && l.len == 0);
	strlist_free(&l);
}

static char *redacted(const char *text)
{
	static char *last;
	free(last);
	last = redact_dup(text);
	return last;
}

static void redact_nothing_registered(void)
{
	CHECK_STR(redacted("password hunter2"), "password hunter2");
	redact_add(NULL);
	CHECK_STR(redacted("x"), "x");
}

static void redact_raw_form(void)
{
	redact_add("s3cr3t-value");
	CHECK_STR(redacted("pw=s3cr3t-value;"), "pw=***;");
	CHECK_STR(redacted("s3cr3t-values3cr3t-value"), "******");
	CHECK_STR(redacted("s3cr3t-valu"), "s3cr3t-valu");
	CHECK_STR(redacted(""), "");
}

static void redact_short_secrets_ignored(void)
{
	redact_add("abc");
	CHECK_STR(redacted("abc abcd"), "abc abcd");
	redact_add("abcd");
	CHECK_STR(redacted("abc abcd"), "abc ***");
}

static void redact_url_encoded_form(void)
{
	redact_add("p@ss/w:rd 100%");
	CHECK_STR(redacted("postgres://u:p%40ss%2Fw%3Ard%20100%25@h/db"), "postgres://u:***@h/db");
	CHECK_STR(redacted("raw p@ss/w:rd 100%!"), "raw ***!");
}

static void redact_json_escaped_form(void)
{
	redact_add("a\"b\\c\nd\te\x01");
	CHECK_STR(redacted("{\"password\":\"a\\\"b\\\\c\\nd\\te\\u0001\"}"), "{\"password\":\"***\"}");
	CHECK_STR(redacted("raw: a\"b\\c\nd\te\x01."), "raw: ***.");
}

static void redact_json_via_cjson(void)
{
	/* Whatever cJSON prints for the secret must be masked. */
	const char *secret = "q\"uo\\te/\b\f\r\x1f\xc3\xa9";
	redact_add(secret);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "pw", secret);
	char *text = cJSON_PrintUnformatted(o);
	CHECK_STR(redacted(text), "{\"pw\":\"***\"}");
	free(text);
	cJSON_Delete(o);
}

static void redact_longest_first(void)
{
	redact_add("secret");
	redact_add("secret-longer");
	CHECK_STR(redacted("a secret-longer b secret c"), "a *** b *** c");
}

static void redact_duplicates_and_clear(void)
{
	redact_add("repeat-me");
	redact_add("repeat-me");
	CHECK_STR(redacted("repeat-me"), "***");
	redact_clear();
	CHECK_STR(redacted("repeat-me"), "repeat-me");
	redact_add("again-me");
	CHECK_STR(redacted("again-me repeat-me"), "*** repeat-me");
}

TT_MAIN(TT_CASE(buf_empty_is_safe), TT_CASE(buf_append_grows_and_terminates), TT_CASE(buf_append_binary),
        TT_CASE(buf_printf_appends), TT_CASE(buf_reset_keeps_capacity), TT_CASE(buf_detach_hands_over),
        TT_CASE(xstrndup_copies_prefix), TT_CASE(strlist_push_copies), TT_CASE(redact_nothing_registered),
        TT_CASE(redact_raw_form), TT_CASE(redact_short_secrets_ignored), TT_CASE(redact_url_encoded_form),
        TT_CASE(redact_json_escaped_form), TT_CASE(redact_json_via_cjson), TT_CASE(redact_longest_first),
        TT_CASE(redact_duplicates_and_clear))
