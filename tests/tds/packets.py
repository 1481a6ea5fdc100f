"""TDS packet framing ([MS-TDS] 2.2.3) over a socket, with TLS carried inside PRELOGIN packets.

``Transport`` owns the socket and, once TLS is negotiated, an ``ssl.SSLObject`` on memory BIOs:
the handshake travels inside 0x12 packets, afterwards TLS records go on the wire directly.
"""

from __future__ import annotations

import socket
import ssl
import struct
import threading

HEADER = struct.Struct(">BBHHBB")
STATUS_EOM = 0x01

# packet types (2.2.3.1.1)
SQL_BATCH = 0x01
RPC = 0x03
REPLY = 0x04
ATTENTION = 0x06
BULK_LOAD = 0x07
TRANSACTION_MANAGER = 0x0E
LOGIN7 = 0x10
SSPI = 0x11
PRELOGIN = 0x12


class ClientGone(Exception):
    """The client closed the connection."""


class Transport:
    """Reads and writes whole TDS messages; thread-safe between one reader and writers."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.packet_size = 4096
        self._tls: ssl.SSLObject | None = None
        self._in = ssl.MemoryBIO()
        self._out = ssl.MemoryBIO()
        self._lock = threading.Lock()
        self._buffer = b""

    # -- raw bytes --------------------------------------------------------------------------

    def _recv_raw(self) -> bytes:
        data = self.sock.recv(65536)
        if not data:
            raise ClientGone()
        return data

    def _fill(self, count: int) -> None:
        while len(self._buffer) < count:
            if self._tls is None:
                self._buffer += self._recv_raw()
                continue
            with self._lock:
                try:
                    self._buffer += self._tls.read(65536)
                    continue
                except ssl.SSLWantReadError:
                    pass
            self._in.write(self._recv_raw())

    def _read_exact(self, count: int) -> bytes:
        self._fill(count)
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data

    def _send_raw(self, data: bytes) -> None:
        with self._lock:
            if self._tls is not None:
                self._tls.write(data)
                data = self._out.read()
            self.sock.sendall(data)

    # -- packets and messages ---------------------------------------------------------------

    def read_packet(self) -> tuple[int, int, bytes]:
        """One packet: (type, status, payload)."""
        ptype, status, length, _spid, _pid, _win = HEADER.unpack(
            self._read_exact(HEADER.size)
        )
        if length < HEADER.size:
            raise ClientGone()
        return ptype, status, self._read_exact(length - HEADER.size)

    def read_message(self) -> tuple[int, bytes]:
        """A whole message (packets up to EOM): (type, payload)."""
        ptype, status, payload = self.read_packet()
        parts = [payload]
        while not status & STATUS_EOM:
            _t, status, payload = self.read_packet()
            parts.append(payload)
        return ptype, b"".join(parts)

    def send_message(self, ptype: int, payload: bytes) -> None:
        """Send PAYLOAD as packets of at most the negotiated size."""
        chunk = self.packet_size - HEADER.size
        offsets = range(0, max(len(payload), 1), chunk)
        out = []
        for number, start in enumerate(offsets, 1):
            part = payload[start : start + chunk]
            last = start + chunk >= len(payload)
            header = HEADER.pack(
                ptype, STATUS_EOM if last else 0, len(part) + 8, 0, number % 256, 0
            )
            out.append(header + part)
        self._send_raw(b"".join(out))

    # -- TLS --------------------------------------------------------------------------------

    def start_tls(self, context: ssl.SSLContext) -> None:
        """Run the server side of a TLS handshake whose records travel in PRELOGIN packets."""
        tls = context.wrap_bio(self._in, self._out, server_side=True)
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                pending = self._out.read()
                if pending:
                    self.send_message(PRELOGIN, pending)
                _t, payload = self.read_message()
                self._in.write(payload)
        pending = self._out.read()
        if pending:
            self.send_message(PRELOGIN, pending)
        self._tls = tls

    def stop_tls(self) -> None:
        """Back to plain TDS (ENCRYPT_OFF: only the login travelled under TLS)."""
        self._tls = None

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
