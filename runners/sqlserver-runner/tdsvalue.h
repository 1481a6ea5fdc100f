/* tdsvalue: SQL Server values as text and back, exactly, without FreeTDS (so it is unit-tested on
 * the host): the caller takes the fields out of db-lib's structures.
 *
 *   datetime2, datetime, smalldatetime   2026-03-01T12:34:56.1234567 (ISO 8601; as many fraction
 *                                        digits as the type's scale, 3 for datetime, none for 0)
 *   datetimeoffset                       2026-03-01T12:34:56.1234567+01:00 (local time + offset)
 *   date, time                           2026-03-01, 12:34:56.1234567
 *   decimal, numeric                     every digit, scale kept: -12.3400
 *   money, smallmoney                    four decimals, exact: 1234.5000
 *   float, real                          the shortest text that reads back as the same number
 *   uniqueidentifier                     6F9619FF-8B86-D011-B42D-00C04FC964FF (SQL Server's form)
 *   binary, varbinary                    0x0A0B (SQL Server's form)
 *   bit                                  true / false
 *
 * Dates count days from 1900-01-01 (negative before it, down to 0001-01-01) and time in 100 ns
 * ticks from midnight, as TDS does; a datetimeoffset's date and ticks are in UTC. */
#ifndef SQLSERVER_TDSVALUE_H
#define SQLSERVER_TDSVALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define TV_TICKS_PER_DAY 864000000000ull

void tv_date(struct buf *b, int32_t days);
void tv_time(struct buf *b, uint64_t ticks, unsigned scale);
void tv_datetime2(struct buf *b, int32_t days, uint64_t ticks, unsigned scale);
void tv_datetimeoffset(struct buf *b, int32_t days, uint64_t ticks, unsigned scale, int offset_minutes);
/* datetime: time in 1/300 s; smalldatetime: minutes. */
void tv_datetime(struct buf *b, int32_t days, int32_t ticks300);
void tv_smalldatetime(struct buf *b, uint16_t days, uint16_t minutes);

/* A decimal from its magnitude (big-endian bytes) and sign. */
void tv_decimal(struct buf *b, bool negative, const unsigned char *magnitude, size_t n, unsigned scale);
/* money: units of 1/10000. */
void tv_money(struct buf *b, int64_t units);
void tv_float(struct buf *b, double v, bool single);
/* The fields of a GUID as TDS carries them (the first three little-endian on the wire). */
void tv_guid(struct buf *b, uint32_t d1, uint16_t d2, uint16_t d3, const unsigned char d4[8]);
void tv_binary(struct buf *b, const unsigned char *p, size_t n);
void tv_bit(struct buf *b, bool v);

/* Reading text for bulk load, where FreeTDS's own parsing falls short. */

/* ISO 8601 date and/or time: "2026-03-01", "12:34:56.1234567", "2026-03-01T12:34:56[.fffffff]"
 * (or a blank for T), with an optional "Z" or "+hh:mm"/"-hh:mm" after a time. Sets what it
 * found; with an offset, days and ticks are converted to UTC. Returns 0, or -1 when text is none
 * of these. */
struct tv_when {
	int32_t days;
	uint64_t ticks;
	int offset_minutes;
	bool has_date, has_time, has_offset;
};
int tv_parse_datetime(const char *text, size_t len, struct tv_when *when);
/* true/false, 1/0, t/f, yes/no, y/n, on/off (any case). Returns 0, or -1. */
int tv_parse_bit(const char *text, size_t len, bool *v);
/* UTF-8 text as UTF-16LE, what nchar/nvarchar/ntext hold (db-lib's bulk copy does not convert
 * program variables). Returns 0, or -1 when text is not UTF-8 (b then holds a part). */
int tv_utf16le(struct buf *b, const char *text, size_t len);

#endif
