/* Unit tests of sqlserver-runner's value formatting and parsing (tdsvalue.h). */
#include "tdsvalue.h"
#include "tt.h"

#define CHECK_FORMAT(call, want)                                                                                       \
	do {                                                                                                           \
		struct buf b_ = BUF_INIT;                                                                              \
		call;                                                                                                  \
		CHECK_STR(buf_str(&b_), want);                                                                         \
		buf_free(&b_);                                                                                         \
	} while (0)

/* A time of day in 100 ns ticks. */
static uint64_t hms(uint64_t h, uint64_t m, uint64_t s)
{
	return ((h * 60 + m) * 60 + s) * 10000000;
}

static void dates(void)
{
	CHECK_FORMAT(tv_date(&b_, 0), "1900-01-01");
	CHECK_FORMAT(tv_date(&b_, -693595), "0001-01-01");
	CHECK_FORMAT(tv_date(&b_, 2958463), "9999-12-31");
	CHECK_FORMAT(tv_date(&b_, 46080), "2026-03-01");
	CHECK_FORMAT(tv_date(&b_, 36583), "2000-02-29");
}

static void times(void)
{
	uint64_t t = hms(12, 34, 56) + 1234567;
	CHECK_FORMAT(tv_time(&b_, t, 7), "12:34:56.1234567");
	CHECK_FORMAT(tv_time(&b_, t, 3), "12:34:56.123");
	CHECK_FORMAT(tv_time(&b_, t, 0), "12:34:56");
	CHECK_FORMAT(tv_time(&b_, 863999999999ull, 7), "23:59:59.9999999");
	CHECK_FORMAT(tv_datetime2(&b_, 46080, t, 7), "2026-03-01T12:34:56.1234567");
}

static void datetimeoffsets(void)
{
	/* 2026-03-01T00:30:00 UTC is 2026-03-01T02:00 at +01:30 and 2026-02-28T19:30 at -05:00. */
	uint64_t t = hms(0, 30, 0);
	CHECK_FORMAT(tv_datetimeoffset(&b_, 46080, t, 7, 90), "2026-03-01T02:00:00.0000000+01:30");
	CHECK_FORMAT(tv_datetimeoffset(&b_, 46080, t, 0, -300), "2026-02-28T19:30:00-05:00");
	CHECK_FORMAT(tv_datetimeoffset(&b_, 46080, t, 3, 0), "2026-03-01T00:30:00.000+00:00");
}

static void legacy_datetimes(void)
{
	/* datetime rounds 1/300 s to .000, .003, .007 as SQL Server prints it. */
	CHECK_FORMAT(tv_datetime(&b_, 46080, 300 * 3600 + 1), "2026-03-01T01:00:00.003");
	CHECK_FORMAT(tv_datetime(&b_, 46080, 300 * 3600 + 2), "2026-03-01T01:00:00.007");
	CHECK_FORMAT(tv_datetime(&b_, 46080, 300 * 86399 + 299), "2026-03-01T23:59:59.997");
	CHECK_FORMAT(tv_smalldatetime(&b_, 46080, 61), "2026-03-01T01:01:00");
}

static void decimals(void)
{
	static const unsigned char zero[16] = { 0 };
	static const unsigned char v12340[] = { 0x30, 0x34 }; /* 12340 */
	unsigned char big[16];
	memset(big, 0xff, sizeof big); /* 2^128 - 1 */
	static const unsigned char five[] = { 0, 0, 5 };
	CHECK_FORMAT(tv_decimal(&b_, false, zero, sizeof zero, 0), "0");
	CHECK_FORMAT(tv_decimal(&b_, true, zero, sizeof zero, 2), "0.00");
	CHECK_FORMAT(tv_decimal(&b_, true, v12340, sizeof v12340, 3), "-12.340");
	CHECK_FORMAT(tv_decimal(&b_, false, v12340, sizeof v12340, 5), "0.12340");
	CHECK_FORMAT(tv_decimal(&b_, false, v12340, sizeof v12340, 7), "0.0012340");
	CHECK_FORMAT(tv_decimal(&b_, false, five, sizeof five, 0), "5");
	CHECK_FORMAT(tv_decimal(&b_, false, big, sizeof big, 38), "3.40282366920938463463374607431768211455");
	CHECK_FORMAT(tv_decimal(&b_, false, big, sizeof big, 0), "340282366920938463463374607431768211455");
}

static void money(void)
{
	CHECK_FORMAT(tv_money(&b_, 12345000), "1234.5000");
	CHECK_FORMAT(tv_money(&b_, -1), "-0.0001");
	CHECK_FORMAT(tv_money(&b_, 0), "0.0000");
	CHECK_FORMAT(tv_money(&b_, INT64_MIN), "-922337203685477.5808");
	CHECK_FORMAT(tv_money(&b_, INT64_MAX), "922337203685477.5807");
}

static void floats(void)
{
	CHECK_FORMAT(tv_float(&b_, 0.1, false), "0.1");
	CHECK_FORMAT(tv_float(&b_, 1.0 / 3, false), "0.3333333333333333");
	CHECK_FORMAT(tv_float(&b_, 1e300, false), "1e+300");
	CHECK_FORMAT(tv_float(&b_, -2.5, false), "-2.5");
	CHECK_FORMAT(tv_float(&b_, (double)0.1f, true), "0.1");
	CHECK_FORMAT(tv_float(&b_, 5e-324, false), "4.94065645841247e-324");
}

static void guids_binary_bits(void)
{
	static const unsigned char d4[8] = { 0xb4, 0x2d, 0x00, 0xc0, 0x4f, 0xc9, 0x64, 0xff };
	CHECK_FORMAT(tv_guid(&b_, 0x6f9619ff, 0x8b86, 0xd011, d4), "6F9619FF-8B86-D011-B42D-00C04FC964FF");
	static const unsigned char bytes[] = { 0x00, 0x0a, 0xff };
	CHECK_FORMAT(tv_binary(&b_, bytes, sizeof bytes), "0x000AFF");
	CHECK_FORMAT(tv_binary(&b_, bytes, 0), "0x");
	CHECK_FORMAT(tv_bit(&b_, true), "true");
	CHECK_FORMAT(tv_bit(&b_, false), "false");
}

static void parse_ok(const char *text, int32_t days, uint64_t ticks, bool has_date, bool has_time, int offset)
{
	struct tv_when w;
	CHECK_INT(tv_parse_datetime(text, strlen(text), &w), 0);
	CHECK_INT(w.days, days);
	CHECK_INT(w.ticks, ticks);
	CHECK_INT(w.has_date, has_date);
	CHECK_INT(w.has_time, has_time);
	CHECK_INT(w.offset_minutes, offset);
}

static void parse_datetimes(void)
{
	uint64_t t = hms(12, 34, 56);
	parse_ok("2026-03-01", 46080, 0, true, false, 0);
	parse_ok("2026-03-01T12:34:56", 46080, t, true, true, 0);
	parse_ok("2026-03-01 12:34:56.1234567", 46080, t + 1234567, true, true, 0);
	parse_ok("2026-03-01T12:34:56.123456789", 46080, t + 1234567, true, true, 0);
	parse_ok("2026-03-01T12:34", 46080, hms(12, 34, 0), true, true, 0);
	parse_ok("12:34:56.5", 0, t + 5000000, false, true, 0);
	parse_ok("0001-01-01", -693595, 0, true, false, 0);
	/* With an offset, the date and time are UTC. */
	parse_ok("2026-03-01T00:30:00+01:00", 46079, hms(23, 30, 0), true, true, 60);
	parse_ok("2026-03-01T12:34:56Z", 46080, t, true, true, 0);
	parse_ok("2026-02-28T19:30:00-05:00", 46080, hms(0, 30, 0), true, true, -300);
	static const char *const bad[] = {
		"",           "2026-13-01",      "2026-02-30", "2026-03-01X", "26-03-01",
		"24:00:00",   "2026-03-01T1:00", "12:34:56.",  "now",         "2026-03-01T12:34:56+15:00",
		"2026-03-01 "
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct tv_when w;
		if (tv_parse_datetime(bad[i], strlen(bad[i]), &w) != -1)
			tt_report(__FILE__, __LINE__, "\"%s\" parsed", bad[i]);
	}
}

static void parse_bits(void)
{
	bool v = false;
	CHECK_INT(tv_parse_bit("TRUE", 4, &v), 0);
	CHECK(v);
	CHECK_INT(tv_parse_bit("0", 1, &v), 0);
	CHECK(!v);
	CHECK_INT(tv_parse_bit("yes", 3, &v), 0);
	CHECK(v);
	CHECK_INT(tv_parse_bit("2", 1, &v), -1);
	CHECK_INT(tv_parse_bit("", 0, &v), -1);
}

static void utf16(void)
{
	struct buf b = BUF_INIT;
	CHECK_INT(tv_utf16le(&b, "A\xc3\xa9\xe2\x9c\x93\xf0\x9f\x98\x80", 10), 0);
	static const char want[] = { 'A', 0, (char)0xe9, 0, 0x13, 0x27, 0x3d, (char)0xd8, 0x00, (char)0xde };
	CHECK_INT(b.len, sizeof want);
	CHECK(memcmp(b.data, want, sizeof want) == 0);
	static const char *const bad[] = { "\xc3", "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xff", "a\x80" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		buf_reset(&b);
		if (tv_utf16le(&b, bad[i], strlen(bad[i])) != -1)
			tt_report(__FILE__, __LINE__, "bad UTF-8 #%zu accepted", i);
	}
	buf_free(&b);
}

TT_MAIN(TT_CASE(dates), TT_CASE(times), TT_CASE(datetimeoffsets), TT_CASE(legacy_datetimes), TT_CASE(decimals),
        TT_CASE(money), TT_CASE(floats), TT_CASE(guids_binary_bits), TT_CASE(parse_datetimes), TT_CASE(parse_bits),
        TT_CASE(utf16))
