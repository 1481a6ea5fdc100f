"""Reading typed values a client sends (RPC parameters 2.2.6.6, bulk load rows 2.2.6.1):
TYPE_INFO (2.2.5.6) and the value encodings of 2.2.5.5, decoded to Python values."""

from __future__ import annotations

import datetime as dt
import struct
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

FIXED = {
    0x30: 1,
    0x34: 2,
    0x38: 4,
    0x7F: 8,
    0x32: 1,
    0x3B: 4,
    0x3E: 8,
    0x3C: 8,
    0x7A: 4,
    0x3A: 4,
    0x3D: 8,
}
BYTELEN = {0x26, 0x68, 0x6D, 0x6E, 0x6F, 0x24, 0x28}
SCALED = {0x29, 0x2A, 0x2B}
DECIMALS = {0x6A, 0x6C, 0x37, 0x3F}
SHORTLEN_COLLATED = {0xA7, 0xAF, 0xE7, 0xEF}
SHORTLEN = {0xA5, 0xAD}
NTEXT_LIKE = {0x23, 0x63, 0x22}  # TEXT, NTEXT, IMAGE
PLP = 0xFFFF
DAY_ZERO = dt.date(1, 1, 1)


class UnsupportedType(Exception):
    """A TDS type this server does not read."""


@dataclass
class TypeInfo:
    tds_type: int
    size: int = 0
    precision: int = 0
    scale: int = 0
    collated: bool = False


class Reader:
    """A cursor over a payload."""

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data, self.pos = data, pos

    def take(self, count: int) -> bytes:
        if self.pos + count > len(self.data):
            raise ValueError("truncated TDS payload")
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def unpack(self, fmt: str) -> Any:
        values = struct.unpack(fmt, self.take(struct.calcsize(fmt)))
        return values[0] if len(values) == 1 else values

    def b_varchar(self) -> str:
        return self.take(self.unpack("<B") * 2).decode("utf-16-le")

    def us_varchar(self) -> str:
        return self.take(self.unpack("<H") * 2).decode("utf-16-le")

    def done(self) -> bool:
        return self.pos >= len(self.data)


def read_type_info(r: Reader) -> TypeInfo:
    t = r.unpack("<B")
    if t in FIXED:
        return TypeInfo(t, FIXED[t])
    if t in BYTELEN:
        return TypeInfo(t, 0 if t == 0x28 else r.unpack("<B"))
    if t in SCALED:
        return TypeInfo(t, scale=r.unpack("<B"))
    if t in DECIMALS:
        size, precision, scale = r.unpack("<BBB")
        return TypeInfo(t, size, precision, scale)
    if t in SHORTLEN_COLLATED:
        size = r.unpack("<H")
        r.take(5)
        return TypeInfo(t, size, collated=True)
    if t in SHORTLEN:
        return TypeInfo(t, r.unpack("<H"))
    raise UnsupportedType(f"TDS type {t:#x}")


def _time(raw: bytes, scale: int) -> dt.time:
    ticks = int.from_bytes(raw, "little") * 10 ** (7 - scale)
    micro = ticks // 10
    seconds, micro = divmod(micro, 1_000_000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return dt.time(hour, minute, second, micro)


def _time_size(scale: int) -> int:
    return 3 if scale <= 2 else 4 if scale <= 4 else 5


def _date(raw: bytes) -> dt.date:
    return DAY_ZERO + dt.timedelta(days=int.from_bytes(raw, "little"))


def _plp(r: Reader) -> bytes | None:
    total = r.unpack("<Q")
    if total == 0xFFFFFFFFFFFFFFFF:
        return None
    parts = []
    while (chunk := r.unpack("<I")) != 0:
        parts.append(r.take(chunk))
    return b"".join(parts)


def read_value(r: Reader, info: TypeInfo) -> Any:
    t = info.tds_type
    if t in FIXED:
        return _decode(t, r.take(info.size), info)
    if t in SHORTLEN_COLLATED or t in SHORTLEN:
        if info.size == PLP:
            raw = _plp(r)
        else:
            length = r.unpack("<H")
            raw = None if length == 0xFFFF else r.take(length)
    else:
        length = r.unpack("<B")
        raw = None if length == 0 and t not in (0xA7, 0xE7) else r.take(length)
    return None if raw is None else _decode(t, raw, info)


def _decode(t: int, raw: bytes, info: TypeInfo) -> Any:
    if t in (0x26, 0x30, 0x34, 0x38, 0x7F):
        return int.from_bytes(raw, "little", signed=t != 0x30)
    if t in (0x68, 0x32):
        return raw != b"\0"
    if t in (0x6D, 0x3B, 0x3E):
        return struct.unpack("<f" if len(raw) == 4 else "<d", raw)[0]
    if t in (0x6E, 0x3C, 0x7A):
        if len(raw) == 4:
            return Decimal(struct.unpack("<i", raw)[0]) / 10000
        high, low = struct.unpack("<iI", raw)
        return Decimal((high << 32) | low) / 10000
    if t == 0x24:
        return uuid.UUID(bytes_le=raw)
    if t in DECIMALS:
        units = int.from_bytes(raw[1:], "little")
        return Decimal(units if raw[0] else -units).scaleb(-info.scale)
    if t == 0x28:
        return _date(raw)
    if t == 0x29:
        return _time(raw, info.scale)
    if t == 0x2A:
        n = _time_size(info.scale)
        return dt.datetime.combine(_date(raw[n:]), _time(raw[:n], info.scale))
    if t == 0x2B:
        n = _time_size(info.scale)
        utc = dt.datetime.combine(_date(raw[n : n + 3]), _time(raw[:n], info.scale))
        offset = dt.timedelta(minutes=struct.unpack("<h", raw[n + 3 :])[0])
        return (utc + offset).replace(tzinfo=dt.timezone(offset))
    if t in (0x6F, 0x3D, 0x3A):
        if len(raw) == 4:
            days, minutes = struct.unpack("<HH", raw)
            return dt.datetime(1900, 1, 1) + dt.timedelta(days=days, minutes=minutes)
        days, ticks = struct.unpack("<iI", raw)
        return dt.datetime(1900, 1, 1) + dt.timedelta(
            days=days, milliseconds=ticks * 10 / 3
        )
    if t in (0xE7, 0xEF):
        return raw.decode("utf-16-le")
    if t in (0xA7, 0xAF):
        return raw.decode("cp1252")
    return bytes(raw)
