"""Response tokens ([MS-TDS] 2.2.7): DONE, ERROR/INFO, ENVCHANGE, LOGINACK, FEATUREEXTACK."""

from __future__ import annotations

import struct

SERVER_NAME = "tinyrun-tds"
TDS_74 = 0x74000004
#: SQL_Latin1_General_CP1_CI_AS
COLLATION = bytes([0x09, 0x04, 0xD0, 0x00, 0x34])

DONE_FINAL = 0x00
DONE_MORE = 0x01
DONE_ERROR = 0x02
DONE_COUNT = 0x10
DONE_ATTN = 0x20

TOKEN_DONE = 0xFD
TOKEN_DONEPROC = 0xFE
TOKEN_DONEINPROC = 0xFF

ENV_DATABASE = 1
ENV_LANGUAGE = 2
ENV_PACKET_SIZE = 4
ENV_COLLATION = 7
ENV_BEGIN_TRAN = 8
ENV_COMMIT_TRAN = 9
ENV_ROLLBACK_TRAN = 10


def b_varchar(text: str) -> bytes:
    data = text.encode("utf-16-le")
    return bytes([len(text)]) + data


def us_varchar(text: str) -> bytes:
    return struct.pack("<H", len(data := text.encode("utf-16-le")) // 2) + data


def done(
    status: int = DONE_FINAL, rowcount: int | None = None, token: int = TOKEN_DONE
) -> bytes:
    if rowcount is not None:
        status |= DONE_COUNT
    return struct.pack("<BHHQ", token, status, 0xC1 if rowcount else 0, rowcount or 0)


def message(
    number: int, severity: int, text: str, state: int = 1, line: int = 1
) -> bytes:
    """ERROR (severity > 10) or INFO token."""
    token = 0xAA if severity > 10 else 0xAB
    body = (
        struct.pack("<iBB", number, state, severity)
        + us_varchar(text)
        + b_varchar(SERVER_NAME)
        + b_varchar("")
        + struct.pack("<i", line)
    )
    return struct.pack("<BH", token, len(body)) + body


def envchange_text(kind: int, new: str, old: str = "") -> bytes:
    body = bytes([kind]) + b_varchar(new) + b_varchar(old)
    return struct.pack("<BH", 0xE3, len(body)) + body


def envchange_bytes(kind: int, new: bytes, old: bytes = b"") -> bytes:
    body = bytes([kind, len(new)]) + new + bytes([len(old)]) + old
    return struct.pack("<BH", 0xE3, len(body)) + body


def loginack() -> bytes:
    body = (
        bytes([1])
        + struct.pack(">I", TDS_74)
        + b_varchar("Microsoft SQL Server")
        + bytes([16, 0, 0x0F, 0xA0])
    )
    return struct.pack("<BH", 0xAD, len(body)) + body


def featureextack() -> bytes:
    """Acknowledge no optional feature: just the terminator."""
    return bytes([0xAE, 0xFF])


def sspi(blob: bytes) -> bytes:
    return struct.pack("<BH", 0xED, len(blob)) + blob
