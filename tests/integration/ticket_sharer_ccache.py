"""Reading ticket caches the way a consumer does, for the ticket-sharer tests.

- :func:`parse` is a strict parser of the FILE cache format (v3/v4): every byte must belong to
  a complete entry, so a cache cut short or followed by garbage is reported (libkrb5 itself takes
  a cache cut between two entries for a shorter, valid one).
- :class:`Krb5` reads a cache through the real libkrb5 (ctypes), as GSSAPI clients do.
- Run as a script (``python ticket_sharer_ccache.py TARGET STOPFILE``) it is the tight-loop
  reader: it opens, reads and checks TARGET with both until STOPFILE exists, then prints one
  JSON object with the number of reads and every bad read.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import struct
import sys
import time
from dataclasses import dataclass


class CacheError(ValueError):
    """The bytes are not one complete ticket cache."""


@dataclass
class Entry:
    client: str
    server: str
    authtime: int
    starttime: int
    endtime: int
    renew_till: int
    flags: int


@dataclass
class Cache:
    version: int
    principal: str
    entries: list[Entry]

    def tgt(self) -> Entry | None:
        """The TGT of the default principal with the latest end, if any."""
        realm = self.principal.rsplit("@", 1)[-1]
        tgts = [e for e in self.entries if e.server == f"krbtgt/{realm}@{realm}"]
        return max(tgts, key=lambda e: e.endtime) if tgts else None


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.off = data, 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.off + n > len(self.data):
            raise CacheError(f"truncated at byte {self.off} of {len(self.data)} (needs {n} more)")
        chunk = self.data[self.off : self.off + n]
        self.off += n
        return chunk

    def u(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")

    def counted(self) -> bytes:
        return self.take(self.u(4))

    def principal(self) -> str:
        self.u(4)  # name type
        count = self.u(4)
        realm = self.counted().decode()
        parts = [self.counted().decode() for _ in range(count)]
        return "/".join(parts) + "@" + realm

    def typed_list(self) -> None:
        for _ in range(self.u(4)):
            self.u(2)
            self.counted()


def parse(data: bytes) -> Cache:
    """Parse a whole FILE cache; raise CacheError unless every byte is accounted for."""
    if not data:
        raise CacheError("empty")
    r = _Reader(data)
    version = r.u(2)
    if version not in (0x0503, 0x0504):
        raise CacheError(f"bad version {version:#06x}")
    if version == 0x0504:
        header = _Reader(r.take(r.u(2)))
        while header.off < len(header.data):
            header.u(2)
            header.take(header.u(2))
    cache = Cache(version, r.principal(), [])
    while r.off < len(data):
        client, server = r.principal(), r.principal()
        r.u(2)
        if version == 0x0503:
            r.u(2)
        r.counted()
        authtime, starttime, endtime, renew_till = struct.unpack(">IIII", r.take(16))
        r.take(1)
        flags = r.u(4)
        r.typed_list()
        r.typed_list()
        r.counted()
        r.counted()
        cache.entries.append(Entry(client, server, authtime, starttime, endtime, renew_till, flags))
    return cache


class Krb5:
    """Just enough of libkrb5 (ctypes) to open a cache, read its principal and walk it."""

    KRB5_CC_END = -1765328242

    def __init__(self) -> None:
        path = ctypes.util.find_library("krb5") or "libkrb5.so.3"
        self.lib = ctypes.CDLL(path)
        self.ctx = ctypes.c_void_p()
        if self.lib.krb5_init_context(ctypes.byref(self.ctx)):
            raise RuntimeError("krb5_init_context failed")
        # krb5_creds is large; a generous buffer is enough because we never look inside it.
        self.creds = ctypes.create_string_buffer(4096)

    def read(self, name: str) -> int:
        """Open NAME, read its principal and every entry to the end; return the entry count.
        Raise CacheError on any libkrb5 error."""
        lib, ctx = self.lib, self.ctx
        cc, princ, cur = ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_void_p()
        if lib.krb5_cc_resolve(ctx, name.encode(), ctypes.byref(cc)):
            raise CacheError("krb5_cc_resolve failed")
        try:
            code = lib.krb5_cc_get_principal(ctx, cc, ctypes.byref(princ))
            if code:
                raise CacheError(f"krb5_cc_get_principal: error {code}")
            lib.krb5_free_principal(ctx, princ)
            code = lib.krb5_cc_start_seq_get(ctx, cc, ctypes.byref(cur))
            if code:
                raise CacheError(f"krb5_cc_start_seq_get: error {code}")
            count = 0
            while True:
                code = lib.krb5_cc_next_cred(ctx, cc, ctypes.byref(cur), self.creds)
                if code:
                    break
                lib.krb5_free_cred_contents(ctx, self.creds)
                count += 1
            lib.krb5_cc_end_seq_get(ctx, cc, ctypes.byref(cur))
            if code != self.KRB5_CC_END:
                raise CacheError(f"krb5_cc_next_cred: error {code}")
            return count
        finally:
            lib.krb5_cc_close(ctx, cc)


def _reader_main(target: str, stop_file: str) -> None:
    krb5 = Krb5()
    reads, bad, missing, principals = 0, [], 0, set()
    started = time.monotonic()
    now = int(time.time())
    while not os.path.exists(stop_file):
        try:
            with open(target, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            missing += 1
            continue
        reads += 1
        try:
            cache = parse(data)
            tgt = cache.tgt()
            if tgt is None or tgt.endtime <= now:
                raise CacheError("no valid TGT")
            principals.add(cache.principal)
            if krb5.read(f"FILE:{target}") < 1:
                raise CacheError("libkrb5 read no entry")
        except CacheError as exc:
            bad.append({"read": reads, "size": len(data), "error": str(exc)})
    print(
        json.dumps(
            {
                "reads": reads,
                "bad": bad[:20],
                "bad_count": len(bad),
                "missing": missing,
                "principals": sorted(principals),
                "seconds": time.monotonic() - started,
            }
        )
    )


if __name__ == "__main__":
    _reader_main(sys.argv[1], sys.argv[2])
