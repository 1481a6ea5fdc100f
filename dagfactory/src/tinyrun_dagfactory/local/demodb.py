"""`make demo-db`: a throwaway PostgreSQL on loopback that the example pipeline works against.

Like tinyrun's own `make demo`: the host's PostgreSQL server binaries (Debian's postgresql package),
a fresh cluster in a temporary folder, the server running as the ``postgres`` user when we are root,
role ``demo`` with a password over TCP (scram-sha-256). The datakit's connections.example.yaml
points at it; when connections.yaml is missing, it is written (mode 600) from the example. `make down`
stops the server and deletes the cluster.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

from .layout import Kit, LocalError

DEFAULT_PORT = 55432
ROLE = "demo"
DBNAME = "demo"
PASSWORD = "demo-only-password"  # a loopback-only database that lives until `make down`
OS_USER = "postgres"


def _state_file(kit: Kit) -> Path:
    return kit.home / "demo-db.json"


def pg_bin() -> Path:
    """TINYRUN_PG_BIN, else the newest /usr/lib/postgresql/<version>/bin holding initdb."""
    if os.environ.get("TINYRUN_PG_BIN"):
        return Path(os.environ["TINYRUN_PG_BIN"])
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if not found:
        raise LocalError("no PostgreSQL server binaries: install Debian's postgresql package (or set TINYRUN_PG_BIN)")
    return found[-1].parent


def _as_server(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return [shutil.which("runuser") or "/usr/sbin/runuser", "-u", OS_USER, "--", *argv]


def _pg(tool: str, *args: str) -> None:
    argv = _as_server([str(pg_bin() / tool), *args])
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, env={"LANG": "C", "PATH": "/usr/bin:/bin"})
    if proc.returncode != 0:
        raise LocalError(f"demo database: {tool} failed ({proc.returncode}): {proc.stderr.strip()}", status=1)


def _port_in_use(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def status(kit: Kit) -> dict[str, Any] | None:
    """The running demo database's folder and port, None when none runs."""
    try:
        state = json.loads(_state_file(kit).read_text())
    except (OSError, ValueError):
        return None
    if not (Path(state["folder"]) / "data" / "postmaster.pid").exists():
        return None
    return dict(state)


def start(kit: Kit, port: int) -> dict[str, Any]:
    running = status(kit)
    if running:
        print(f"demo database already running on 127.0.0.1:{running['port']} (database {DBNAME}, role {ROLE})")
        _write_connections(kit, int(running["port"]))
        return running
    if _port_in_use(port):
        raise LocalError(f"port {port} on 127.0.0.1 is in use: run `make demo-db DEMO_DB_PORT=<free port>`")
    folder = Path(tempfile.mkdtemp(prefix="tinyrun-demo-db-"))
    try:
        _create(folder, port)
    except BaseException:
        with contextlib.suppress(LocalError):
            _pg("pg_ctl", "-D", str(folder / "data"), "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)
        raise
    state = {"folder": str(folder), "port": port}
    kit.home.mkdir(parents=True, exist_ok=True)
    _state_file(kit).write_text(json.dumps(state) + "\n")
    print(f"demo database running on 127.0.0.1:{port} (database {DBNAME}, role {ROLE}); `make down` removes it")
    _write_connections(kit, port)
    return state


def _create(folder: Path, port: int) -> None:
    socket_dir = folder / "socket"
    socket_dir.mkdir()
    folder.chmod(0o755)
    if os.geteuid() == 0:
        entry = pwd.getpwnam(OS_USER)
        for path in (folder, socket_dir):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    data = folder / "data"
    _pg("initdb", "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "-N")
    settings = {
        "listen_addresses": "127.0.0.1",
        "port": str(port),
        "unix_socket_directories": str(socket_dir),
        "password_encryption": "scram-sha-256",
        "fsync": "off",  # throwaway data
    }
    with open(data / "postgresql.conf", "a") as fh:
        fh.write("\n# tinyrun demo database (throwaway)\n")
        fh.writelines(f"{key} = '{value}'\n" for key, value in settings.items())
    (data / "pg_hba.conf").write_text(f"local all postgres trust\nhost {DBNAME} {ROLE} 127.0.0.1/32 scram-sha-256\n")
    _pg("pg_ctl", "-D", str(data), "-l", str(folder / "postgres.log"), "-w", "-t", "60", "start")
    sql = f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'; CREATE DATABASE {DBNAME} OWNER {ROLE};"
    for statement in sql.split("; "):
        _pg(
            "psql",
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            str(socket_dir),
            "-p",
            str(port),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-c",
            statement,
        )


def _write_connections(kit: Kit, port: int) -> None:
    """connections.yaml from the example, pointed at this port, when the developer has none yet."""
    target = kit.connections_file
    if target.exists() or not kit.connections_example.is_file():
        return
    example = yaml.safe_load(kit.connections_example.read_text()) or {}
    for conn in example.values():
        if isinstance(conn, dict) and conn.get("port") == DEFAULT_PORT:
            conn["port"] = port
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(f"# written by `make demo-db` from {kit.connections_example.name}: the demo database\n")
        fh.write(yaml.safe_dump(example, sort_keys=False))
    print(f"wrote {target.name} (mode 600) from {kit.connections_example.name}")


def stop(kit: Kit) -> bool:
    """Stop the demo database and delete it; False when none was running."""
    try:
        state = json.loads(_state_file(kit).read_text())
    except (OSError, ValueError):
        return False
    folder = Path(state["folder"])
    if (folder / "data" / "postmaster.pid").exists():
        _pg("pg_ctl", "-D", str(folder / "data"), "-m", "fast", "-w", "stop")
    shutil.rmtree(folder, ignore_errors=True)
    _state_file(kit).unlink()
    return True
