"""PRELOGIN (2.2.6.5) and LOGIN7 (2.2.6.4) messages: parsing the client's, building ours."""

from __future__ import annotations

import struct
from dataclasses import dataclass

ENCRYPT_OFF, ENCRYPT_ON, ENCRYPT_NOT_SUP, ENCRYPT_REQ = 0, 1, 2, 3
PL_VERSION, PL_ENCRYPTION, PL_INSTOPT, PL_THREADID, PL_MARS, PL_TERMINATOR = (
    0,
    1,
    2,
    3,
    4,
    0xFF,
)


def prelogin_options(payload: bytes) -> dict[int, bytes]:
    """The option tokens of a PRELOGIN payload."""
    options: dict[int, bytes] = {}
    pos = 0
    while pos < len(payload) and payload[pos] != PL_TERMINATOR:
        token, offset, length = struct.unpack_from(">BHH", payload, pos)
        options[token] = payload[offset : offset + length]
        pos += 5
    return options


def negotiate_encryption(client: int, tls_available: bool) -> int:
    """The server's ENCRYPTION answer for the client's (2.2.6.5, encryption table)."""
    if not tls_available:
        return ENCRYPT_NOT_SUP
    if client == ENCRYPT_NOT_SUP:
        return ENCRYPT_NOT_SUP
    return ENCRYPT_OFF if client == ENCRYPT_OFF else ENCRYPT_ON


def prelogin_reply(encryption: int) -> bytes:
    options = [
        (PL_VERSION, bytes([16, 0, 0x0F, 0xA0, 0, 0])),
        (PL_ENCRYPTION, bytes([encryption])),
        (PL_INSTOPT, b"\x00"),
        (PL_THREADID, b""),
        (PL_MARS, b"\x00"),
    ]
    offset = len(options) * 5 + 1
    head, data = b"", b""
    for token, value in options:
        head += struct.pack(">BHH", token, offset + len(data), len(value))
        data += value
    return head + bytes([PL_TERMINATOR]) + data


@dataclass
class Login7:
    """What the server needs from a LOGIN7 message."""

    packet_size: int
    user: str
    password: str
    app: str
    database: str
    language: str
    sspi: bytes
    extension: bool


def _password(raw: bytes) -> str:
    """Undo the LOGIN7 password scrambling: swap nibbles after XOR with 0xA5."""
    plain = bytes((((b ^ 0xA5) << 4) & 0xF0) | ((b ^ 0xA5) >> 4) for b in raw)
    return plain.decode("utf-16-le")


def parse_login7(payload: bytes) -> Login7:
    (packet_size,) = struct.unpack_from("<I", payload, 8)

    def text(at: int) -> bytes:
        offset, chars = struct.unpack_from("<HH", payload, at)
        return payload[offset : offset + 2 * chars]

    sspi_offset, sspi_len = struct.unpack_from("<HH", payload, 78)
    if sspi_len == 0xFFFF:
        (sspi_len,) = struct.unpack_from("<I", payload, 90)
    return Login7(
        packet_size=packet_size,
        user=text(40).decode("utf-16-le"),
        password=_password(text(44)),
        app=text(48).decode("utf-16-le"),
        database=text(68).decode("utf-16-le"),
        language=text(64).decode("utf-16-le"),
        sspi=payload[sspi_offset : sspi_offset + sspi_len],
        extension=bool(payload[27] & 0x10),
    )
