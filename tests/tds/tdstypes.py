"""PostgreSQL result columns as TDS columns: COLMETADATA (2.2.7.4) and NBCROW (2.2.7.15).

Each PostgreSQL type OID maps to one TDS type; a value psycopg2 returns is encoded in that
type's wire form (2.2.5.5). Types without a mapping travel as NVARCHAR text.
"""

from __future__ import annotations

import datetime as dt
import struct
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .tokens import COLLATION, b_varchar

INTN, BITN, NUMERICN, FLTN, MONEYN, GUIDN = 0x26, 0x68, 0x6C, 0x6D, 0x6E, 0x24
DATEN, TIMEN, DATETIME2N, DATETIMEOFFSETN = 0x28, 0x29, 0x2A, 0x2B
BIGVARBIN, BIGVARCHR, NVARCHAR = 0xA5, 0xA7, 0xE7
PLP_MAX = 0xFFFF
SHORT_MAX = 8000
DAY_ZERO = dt.date(1, 1, 1)


@dataclass(frozen=True)
class Column:
    """One result column: its COLMETADATA entry and how to encode a non-NULL value."""

    name: str
    type_info: bytes
    encode: Callable[[Any], bytes]

    def metadata(self) -> bytes:
        # UserType, Flags (nullable), TYPE_INFO, ColName
        return struct.pack("<IH", 0, 0x0001) + self.type_info + b_varchar(self.name)


def _fixed(
    tds_type: int, size: int, pack: Callable[[Any], bytes]
) -> tuple[bytes, Callable]:
    return bytes([tds_type, size]), lambda v: bytes([size]) + pack(v)


def _ticks(t: dt.time | dt.datetime) -> bytes:
    ticks = ((t.hour * 60 + t.minute) * 60 + t.second) * 10_000_000 + t.microsecond * 10
    return ticks.to_bytes(5, "little")


def _days(d: dt.date) -> bytes:
    return (d - DAY_ZERO).days.to_bytes(3, "little")


def _datetimeoffset(v: dt.datetime) -> bytes:
    offset = v.utcoffset() or dt.timedelta(0)
    utc = v.replace(tzinfo=None) - offset
    return (
        _ticks(utc)
        + _days(utc.date())
        + struct.pack("<h", int(offset.total_seconds() // 60))
    )


def parse_money(v: Any) -> Decimal:
    """psycopg2 returns money as text such as '-$1,234.50'."""
    text = str(v).replace("$", "").replace(",", "")
    return Decimal(text)


def _money(v: Any) -> bytes:
    units = int(parse_money(v) * 10000)
    return struct.pack("<iI", units >> 32, units & 0xFFFFFFFF)


def _numeric(scale: int) -> Callable[[Any], bytes]:
    def encode(v: Any) -> bytes:
        units = int(Decimal(v).scaleb(scale).to_integral_value())
        return bytes([17, 1 if units >= 0 else 0]) + abs(units).to_bytes(16, "little")

    return encode


def _variable(
    tds_type: int, to_bytes: Callable[[Any], bytes], values: list[Any], collate: bool
):
    """A length-prefixed type, as PLP (MAX) when a value exceeds 8000 bytes."""
    plp = any(len(to_bytes(v)) > SHORT_MAX for v in values if v is not None)
    info = bytes([tds_type]) + struct.pack("<H", PLP_MAX if plp else SHORT_MAX)
    if collate:
        info += COLLATION
    if not plp:
        return info, lambda v: struct.pack("<H", len(b := to_bytes(v))) + b

    def encode_plp(v: Any) -> bytes:
        data = to_bytes(v)
        chunk = struct.pack("<I", len(data)) + data if data else b""
        return struct.pack("<Q", len(data)) + chunk + struct.pack("<I", 0)

    return info, encode_plp


def _scale_of(values: list[Any]) -> int:
    exponents = [-Decimal(v).as_tuple().exponent for v in values if v is not None]
    return max([0, *[e for e in exponents if isinstance(e, int)]])


def column(name: str, oid: int, scale: int | None, values: list[Any]) -> Column:
    """The TDS column for PostgreSQL type OID with these VALUES (all rows of the column)."""
    ints = {21: 2, 23: 4, 20: 8, 26: 8}
    if oid in ints:
        size = ints[oid]
        info, enc = _fixed(
            INTN, size, lambda v: int(v).to_bytes(size, "little", signed=True)
        )
    elif oid == 16:
        info, enc = _fixed(BITN, 1, lambda v: bytes([1 if v else 0]))
    elif oid in (700, 701):
        info, enc = _fixed(FLTN, 8, lambda v: struct.pack("<d", float(v)))
    elif oid == 790:
        info, enc = _fixed(MONEYN, 8, _money)
    elif oid == 2950:
        info, enc = _fixed(GUIDN, 16, lambda v: uuid.UUID(str(v)).bytes_le)
    elif oid == 1700:
        sc = min(scale if scale is not None and scale >= 0 else _scale_of(values), 38)
        info, enc = bytes([NUMERICN, 17, 38, sc]), _numeric(sc)
    elif oid == 1082:
        info, enc = bytes([DATEN]), lambda v: bytes([3]) + _days(v)
    elif oid == 1083:
        info, enc = bytes([TIMEN, 7]), lambda v: bytes([5]) + _ticks(v)
    elif oid == 1114:
        info, enc = (
            bytes([DATETIME2N, 7]),
            lambda v: bytes([8]) + _ticks(v) + _days(v.date()),
        )
    elif oid == 1184:
        info, enc = (
            bytes([DATETIMEOFFSETN, 7]),
            lambda v: bytes([10]) + _datetimeoffset(v),
        )
    elif oid == 17:
        info, enc = _variable(BIGVARBIN, bytes, values, collate=False)
    elif oid in (1043, 1042):
        info, enc = _variable(BIGVARCHR, _cp1252, values, collate=True)
    else:
        info, enc = _variable(NVARCHAR, _utf16, values, collate=True)
    return Column(name, info, enc)


def _cp1252(v: Any) -> bytes:
    return str(v).encode("cp1252", errors="replace")


def _utf16(v: Any) -> bytes:
    if isinstance(v, bool):
        v = "1" if v else "0"
    return str(v).encode("utf-16-le")


def colmetadata(columns: Sequence[Column]) -> bytes:
    return struct.pack("<BH", 0x81, len(columns)) + b"".join(
        c.metadata() for c in columns
    )


def nbcrow(columns: Sequence[Column], row: Sequence[Any]) -> bytes:
    bitmap = bytearray((len(columns) + 7) // 8)
    values = []
    for index, (col, value) in enumerate(zip(columns, row)):
        if value is None:
            bitmap[index // 8] |= 1 << (index % 8)
        else:
            values.append(col.encode(value))
    return bytes([0xD2]) + bytes(bitmap) + b"".join(values)
