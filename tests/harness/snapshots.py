"""Code snapshots for python-launcher tests: good ones, and every kind of bad tarball.

``make_snapshot(files)`` builds a .tar.gz in memory from {path: text}; ``evil(kind)`` builds
one whose entries try to escape the target folder or are not allowed, as an attacker would
craft them with tarfile.
"""

from __future__ import annotations

import hashlib
import io
import tarfile

# The program most tests run: prints, writes its result file, exits with argv[1] (default 0).
MAIN_PY = """\
import json, os, sys
print("program says hello from", os.path.basename(os.getcwd()), flush=True)
with open(os.environ["TINYRUN_RESULT_FILE"], "w") as f:
    json.dump({"rows": 42, "argv": sys.argv[1:], "conn": os.environ.get("AIRFLOW_CONN_WH"),
               "dag": os.environ.get("TINYRUN_DAG_ID"), "secret": os.environ.get("TINYRUN_TOKEN")}, f)
sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
"""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _add(tar: tarfile.TarFile, name: str, data: bytes = b"", **attrs: object) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    for key, value in attrs.items():
        setattr(info, key, value)
    tar.addfile(info, io.BytesIO(data) if info.isreg() else None)


def make_snapshot(
    files: dict[str, str], gz: bool = True, fmt: int = tarfile.PAX_FORMAT
) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if gz else "w", format=fmt) as tar:
        for name, text in files.items():
            _add(tar, name, text.encode())
    return buf.getvalue()


EVIL_KINDS = (
    "absolute",
    "dotdot",
    "symlink_escape",
    "symlink_absolute",
    "write_through_symlink",
    "hardlink_escape",
    "device",
    "fifo",
    "oversized",
    "corrupt",
    "truncated",
    "not_gzip_not_tar",
)


def evil(kind: str, outside: str) -> bytes:
    """A snapshot of KIND; OUTSIDE is an absolute path next to the cache that must stay untouched."""
    if kind == "corrupt":
        good = bytearray(make_snapshot({"main.py": MAIN_PY * 50}))
        good[len(good) // 2 : len(good) // 2 + 40] = b"\x00" * 40
        return bytes(good)
    if kind == "truncated":
        good = make_snapshot({"main.py": MAIN_PY * 50})
        return good[: len(good) * 2 // 3]
    if kind == "not_gzip_not_tar":
        return b"this is neither a gzip stream nor a tar archive\n" * 30
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.GNU_FORMAT) as tar:
        _add(tar, "main.py", MAIN_PY.encode())
        _evil_entries(tar, kind, outside)
    return buf.getvalue()


def _evil_entries(tar: tarfile.TarFile, kind: str, outside: str) -> None:
    if kind == "absolute":
        _add(tar, outside, b"pwned")
    elif kind == "dotdot":
        _add(tar, "pkg/../../../" + outside.lstrip("/"), b"pwned")
    elif kind == "symlink_escape":
        _add(
            tar,
            "link",
            type=tarfile.SYMTYPE,
            linkname="../../../../../../" + outside.lstrip("/"),
        )
    elif kind == "symlink_absolute":
        _add(tar, "link", type=tarfile.SYMTYPE, linkname=outside)
    elif kind == "write_through_symlink":
        _add(tar, "up", type=tarfile.SYMTYPE, linkname=".")
        _add(tar, "up/pwned.py", b"pwned")
    elif kind == "hardlink_escape":
        _add(
            tar,
            "hard",
            type=tarfile.LNKTYPE,
            linkname="../../../../" + outside.lstrip("/"),
        )
    elif kind == "device":
        _add(tar, "null", type=tarfile.CHRTYPE, devmajor=1, devminor=3)
    elif kind == "fifo":
        _add(tar, "fifo", type=tarfile.FIFOTYPE)
    elif kind == "oversized":
        _add(tar, "big.bin", b"\0" * (3 << 20))  # the tests cap --max-size at 2 MiB
