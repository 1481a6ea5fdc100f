"""RPC requests (2.2.6.6): sp_executesql, sp_prepexec, sp_prepare, sp_execute, sp_unprepare.

Parameters become psycopg2 parameters of the translated statement; prepared statements are kept
per session as (declaration, statement text) and executed again by handle.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import tokens as tk
from .tokens import b_varchar
from .values import Reader, read_type_info, read_value

if TYPE_CHECKING:
    from .batch import BatchRunner

PROC_IDS = {
    10: "sp_executesql",
    11: "sp_prepare",
    12: "sp_execute",
    13: "sp_prepexec",
    15: "sp_unprepare",
}


@dataclass
class Param:
    name: str
    output: bool
    value: Any


def parse_rpc(body: bytes) -> tuple[str, list[Param]]:
    r = Reader(body)
    length = r.unpack("<H")
    name = (
        PROC_IDS.get(r.unpack("<H"), "unknown")
        if length == 0xFFFF
        else r.take(length * 2).decode("utf-16-le")
    )
    r.unpack("<H")  # option flags
    params = []
    while not r.done() and r.data[r.pos] not in (0x80, 0xFF, 0xFE):
        pname = r.b_varchar().lstrip("@")
        status = r.unpack("<B")
        info = read_type_info(r)
        params.append(Param(pname, bool(status & 0x01), read_value(r, info)))
    return name.lower().split(".")[-1], params


def declared_names(declaration: str | None) -> list[str]:
    return re.findall(r"@(\w+)", declaration or "")


def bind(declaration: str | None, values: list[Param]) -> dict[str, Any]:
    """Parameter values by name: named ones as sent, unnamed ones in declaration order."""
    names = declared_names(declaration)
    bound = {}
    for index, param in enumerate(values):
        name = param.name or (names[index] if index < len(names) else f"P{index + 1}")
        bound[name] = param.value
    return bound


def return_int(ordinal: int, name: str, value: int) -> bytes:
    """RETURNVALUE (2.2.7.19) for an int OUTPUT parameter."""
    body = (
        struct.pack("<H", ordinal)
        + b_varchar("@" + name if name else "")
        + bytes([0x01])
        + struct.pack("<IH", 0, 0x0001)
        + bytes([0x26, 4, 4])
        + struct.pack("<i", value)
    )
    return bytes([0xAC]) + body


def run_rpc(runner: BatchRunner, body: bytes) -> None:
    name, params = parse_rpc(body)
    session = runner.session
    session.server.rpc_calls.append(name)
    prepared: dict[int, tuple[str, str]] = session.__dict__.setdefault("prepared", {})
    runner.done_token = tk.TOKEN_DONEINPROC
    returns = b""
    try:
        if name == "sp_executesql":
            decl = params[1].value if len(params) > 1 else None
            runner.run_batch(params[0].value, bind(decl, params[2:]))
        elif name in ("sp_prepexec", "sp_prepare"):
            decl, text = params[1].value, params[2].value
            handle = len(prepared) + 1
            prepared[handle] = (decl, text)
            returns = return_int(0, params[0].name, handle)
            if name == "sp_prepexec":
                runner.run_batch(text, bind(decl, params[3:]))
        elif name == "sp_execute":
            decl, text = prepared[params[0].value]
            runner.run_batch(text, bind(decl, params[1:]))
        elif name == "sp_unprepare":
            prepared.pop(params[0].value, None)
        else:
            runner.error(2812, 16, f"Could not find stored procedure '{name}'.")
    finally:
        failed = any(isinstance(p, tuple) and p[1] & tk.DONE_ERROR for p in runner.out)
        runner.out.append(bytes([0x79]) + struct.pack("<i", 0) + returns)
        runner.out.append(
            ("done", tk.DONE_ERROR if failed else 0, None, tk.TOKEN_DONEPROC)
        )
