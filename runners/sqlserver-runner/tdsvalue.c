/* tdsvalue: SQL Server values as text and back (see tdsvalue.h). */
#include "tdsvalue.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TICKS_PER_SECOND  10000000ull
#define DAYS_1900_TO_1970 25567     /* 1900-01-01 is day -25567 of the Unix epoch */
#define DAYS_MIN          (-693595) /* 0001-01-01 */
#define DAYS_MAX          2958463   /* 9999-12-31 */

/* ---- dates (proleptic Gregorian, the algorithms of Howard Hinnant's "chrono-compatible
 * low-level date algorithms") ---- */

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yoe + era * 400) + (*m <= 2);
}

static int64_t days_from_civil(int y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void tv_date(struct buf *b, int32_t days)
{
	int y;
	unsigned m, d;
	civil_from_days((int64_t)days - DAYS_1900_TO_1970, &y, &m, &d);
	buf_printf(b, "%04d-%02u-%02u", y, m, d);
}

void tv_time(struct buf *b, uint64_t ticks, unsigned scale)
{
	uint64_t secs = ticks / TICKS_PER_SECOND;
	buf_printf(b, "%02u:%02u:%02u", (unsigned)(secs / 3600), (unsigned)(secs / 60 % 60), (unsigned)(secs % 60));
	if (scale > 0) {
		char frac[8];
		snprintf(frac, sizeof frac, "%07u", (unsigned)(ticks % TICKS_PER_SECOND));
		buf_printf(b, ".%.*s", (int)(scale > 7 ? 7 : scale), frac);
	}
}

void tv_datetime2(struct buf *b, int32_t days, uint64_t ticks, unsigned scale)
{
	tv_date(b, days);
	buf_putc(b, 'T');
	tv_time(b, ticks, scale);
}

void tv_datetimeoffset(struct buf *b, int32_t days, uint64_t ticks, unsigned scale, int offset_minutes)
{
	int64_t local = (int64_t)days * (int64_t)TV_TICKS_PER_DAY + (int64_t)ticks +
	                (int64_t)offset_minutes * 60 * (int64_t)TICKS_PER_SECOND;
	int64_t local_days = local / (int64_t)TV_TICKS_PER_DAY;
	if (local % (int64_t)TV_TICKS_PER_DAY < 0)
		local_days--;
	tv_datetime2(b, (int32_t)local_days, (uint64_t)(local - local_days * (int64_t)TV_TICKS_PER_DAY), scale);
	unsigned off = (unsigned)abs(offset_minutes);
	buf_printf(b, "%c%02u:%02u", offset_minutes < 0 ? '-' : '+', off / 60, off % 60);
}

void tv_datetime(struct buf *b, int32_t days, int32_t ticks300)
{
	uint64_t ms = ((uint64_t)(ticks300 % 300) * 1000 + 150) / 300;
	tv_datetime2(b, days, (uint64_t)(ticks300 / 300) * TICKS_PER_SECOND + ms * 10000, 3);
}

void tv_smalldatetime(struct buf *b, uint16_t days, uint16_t minutes)
{
	tv_datetime2(b, days, (uint64_t)minutes * 60 * TICKS_PER_SECOND, 0);
}

/* ---- numbers ---- */

void tv_decimal(struct buf *b, bool negative, const unsigned char *magnitude, size_t n, unsigned scale)
{
	unsigned char work[64];
	char digits[160];
	size_t nd = 0;
	if (n > sizeof work)
		n = sizeof work;
	memcpy(work, magnitude, n);
	size_t first = 0; /* work[first..n) is the number still to convert */
	while (first < n && work[first] == 0)
		first++;
	while (first < n) { /* divide by 10, collecting the remainders: the digits, last first */
		unsigned rem = 0;
		for (size_t i = first; i < n; i++) {
			unsigned cur = rem * 256 + work[i];
			work[i] = (unsigned char)(cur / 10);
			rem = cur % 10;
		}
		digits[nd++] = (char)('0' + rem);
		while (first < n && work[first] == 0)
			first++;
	}
	if (negative && nd > 0)
		buf_putc(b, '-');
	while (nd <= scale && nd < sizeof digits)
		digits[nd++] = '0';
	for (size_t i = nd; i-- > 0;) {
		buf_putc(b, digits[i]);
		if (i == scale && scale > 0)
			buf_putc(b, '.');
	}
}

void tv_money(struct buf *b, int64_t units)
{
	uint64_t u = units < 0 ? 0 - (uint64_t)units : (uint64_t)units;
	buf_printf(b, "%s%" PRIu64 ".%04u", units < 0 ? "-" : "", u / 10000, (unsigned)(u % 10000));
}

void tv_float(struct buf *b, double v, bool single)
{
	char text[40];
	for (int digits = single ? 6 : 15; digits <= (single ? 9 : 17); digits++) {
		snprintf(text, sizeof text, "%.*g", digits, v);
		if (single ? strtof(text, NULL) == (float)v : strtod(text, NULL) == v)
			break;
	}
	buf_puts(b, text);
}

void tv_guid(struct buf *b, uint32_t d1, uint16_t d2, uint16_t d3, const unsigned char d4[8])
{
	buf_printf(b, "%08" PRIX32 "-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X", d1, d2, d3, d4[0], d4[1], d4[2],
	           d4[3], d4[4], d4[5], d4[6], d4[7]);
}

void tv_binary(struct buf *b, const unsigned char *p, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	buf_puts(b, "0x");
	for (size_t i = 0; i < n; i++) {
		char pair[2] = { hex[p[i] >> 4], hex[p[i] & 15] };
		buf_append(b, pair, 2);
	}
}

void tv_bit(struct buf *b, bool v)
{
	buf_puts(b, v ? "true" : "false");
}

/* ---- parsing ---- */

/* Exactly n digits at *p (advanced past them) as a number; -1 when they are not there. */
static long take_digits(const char **p, const char *end, int n)
{
	long v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (*p >= end || !isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (**p - '0');
	}
	return v;
}

static bool take_char(const char **p, const char *end, char c)
{
	if (*p < end && **p == c) {
		(*p)++;
		return true;
	}
	return false;
}

static int parse_date(const char **p, const char *end, struct tv_when *w)
{
	long y = take_digits(p, end, 4);
	bool dash1 = take_char(p, end, '-');
	long m = take_digits(p, end, 2);
	bool dash2 = take_char(p, end, '-');
	long d = take_digits(p, end, 2);
	if (y < 1 || !dash1 || m < 1 || m > 12 || !dash2 || d < 1 || d > 31)
		return -1;
	int64_t days = days_from_civil((int)y, (unsigned)m, (unsigned)d) + DAYS_1900_TO_1970;
	int yy;
	unsigned mm, dd;
	civil_from_days(days - DAYS_1900_TO_1970, &yy, &mm, &dd);
	if (dd != (unsigned)d) /* 2026-02-30 */
		return -1;
	w->days = (int32_t)days;
	w->has_date = true;
	return 0;
}

static int parse_time(const char **p, const char *end, struct tv_when *w)
{
	long h = take_digits(p, end, 2);
	bool colon1 = take_char(p, end, ':');
	long mi = take_digits(p, end, 2);
	long s = 0;
	if (h < 0 || h > 23 || !colon1 || mi < 0 || mi > 59)
		return -1;
	if (take_char(p, end, ':') && ((s = take_digits(p, end, 2)) < 0 || s > 59))
		return -1;
	uint64_t frac = 0, scale = TICKS_PER_SECOND;
	if (take_char(p, end, '.')) {
		if (*p >= end || !isdigit((unsigned char)**p))
			return -1;
		for (; *p < end && isdigit((unsigned char)**p); (*p)++) {
			if (scale > 1) { /* digits past 100 ns are dropped */
				scale /= 10;
				frac += (uint64_t)(**p - '0') * scale;
			}
		}
	}
	w->ticks = (uint64_t)((h * 60 + mi) * 60 + s) * TICKS_PER_SECOND + frac;
	w->has_time = true;
	return 0;
}

static int parse_offset(const char **p, const char *end, struct tv_when *w)
{
	if (take_char(p, end, 'Z')) {
		w->has_offset = true;
		return 0;
	}
	int sign = take_char(p, end, '+') ? 1 : take_char(p, end, '-') ? -1 : 0;
	if (!sign)
		return 0;
	long h = take_digits(p, end, 2);
	bool colon = take_char(p, end, ':');
	long m = take_digits(p, end, 2);
	if (h < 0 || h > 14 || !colon || m < 0 || m > 59)
		return -1;
	w->offset_minutes = sign * (int)(h * 60 + m);
	w->has_offset = true;
	return 0;
}

int tv_parse_datetime(const char *text, size_t len, struct tv_when *w)
{
	const char *p = text, *end = text + len;
	*w = (struct tv_when){ 0 };
	bool date_first = len >= 5 && text[4] == '-';
	if (date_first && parse_date(&p, end, w))
		return -1;
	if (!date_first || take_char(&p, end, 'T') || take_char(&p, end, ' ')) {
		if (parse_time(&p, end, w) || parse_offset(&p, end, w))
			return -1;
	}
	if (p != end)
		return -1;
	if (w->has_offset) { /* to UTC */
		int64_t t = (int64_t)w->days * (int64_t)TV_TICKS_PER_DAY + (int64_t)w->ticks -
		            (int64_t)w->offset_minutes * 60 * (int64_t)TICKS_PER_SECOND;
		int64_t days = t / (int64_t)TV_TICKS_PER_DAY;
		if (t % (int64_t)TV_TICKS_PER_DAY < 0)
			days--;
		w->days = (int32_t)days;
		w->ticks = (uint64_t)(t - days * (int64_t)TV_TICKS_PER_DAY);
	}
	return w->has_date && (w->days < DAYS_MIN || w->days > DAYS_MAX) ? -1 : 0;
}

int tv_parse_bit(const char *text, size_t len, bool *v)
{
	static const char *const yes[] = { "true", "1", "t", "yes", "y", "on" };
	static const char *const no[] = { "false", "0", "f", "no", "n", "off" };
	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
		if (strlen(yes[i]) == len && strncasecmp(text, yes[i], len) == 0) {
			*v = true;
			return 0;
		}
		if (strlen(no[i]) == len && strncasecmp(text, no[i], len) == 0) {
			*v = false;
			return 0;
		}
	}
	return -1;
}

/* The code point of the UTF-8 sequence at *p (advanced past it), or -1 when it is not one. */
static long utf8_next(const unsigned char **p, const unsigned char *end)
{
	unsigned char c = *(*p)++;
	if (c < 0x80)
		return c;
	int more = c >= 0xf0 && c < 0xf5 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 && c < 0xe0 ? 1 : -1;
	if (more < 0 || end - *p < more)
		return -1;
	long cp = c & (0x3f >> more);
	for (int i = 0; i < more; i++, (*p)++) {
		if ((**p & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (**p & 0x3f);
	}
	static const long min[] = { 0, 0x80, 0x800, 0x10000 };
	if (cp < min[more] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1; /* overlong, beyond Unicode, or a surrogate */
	return cp;
}

static void put_unit(struct buf *b, unsigned unit)
{
	char le[2] = { (char)(unit & 0xff), (char)(unit >> 8) };
	buf_append(b, le, 2);
}

int tv_utf16le(struct buf *b, const char *text, size_t len)
{
	const unsigned char *p = (const unsigned char *)text, *end = p + len;
	while (p < end) {
		long cp = utf8_next(&p, end);
		if (cp < 0)
			return -1;
		if (cp < 0x10000) {
			put_unit(b, (unsigned)cp);
		} else {
			put_unit(b, 0xd800 + (unsigned)((cp - 0x10000) >> 10));
			put_unit(b, 0xdc00 + (unsigned)((cp - 0x10000) & 0x3ff));
		}
	}
	return 0;
}
