"""A throwaway PostgreSQL cluster for one ``make bench`` run (Debian's postgresql-15 binaries).

It lives in a temporary folder, listens on 127.0.0.1 on a free port (and on a unix socket in its
folder for the bench's own superuser access), and runs as the ``postgres`` system user (via
runuser) when the bench runs as root. Clients log in as role ``bench`` with scram-sha-256 over
TCP, as they would against a real server.

Not a production configuration: :data:`SETTINGS` turns off fsync, synchronous_commit,
full_page_writes and autovacuum so that the numbers measure the clients rather than this
machine's disk. Every contestant runs against the same server with the same settings.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
from pathlib import Path

PG_BIN = Path(os.environ.get("TINYRUN_PG_BIN", "/usr/lib/postgresql/15/bin"))
#: The psql binary itself (Debian's /usr/bin/psql is a Perl wrapper that execs it).
PSQL = str(PG_BIN / "psql")
OS_USER = "postgres"
ROLE = "bench"
PASSWORD = "bench-password"
DBNAME = "bench"

#: Appended to postgresql.conf; bench only (see the module docstring).
SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "autovacuum": "off",
    "shared_buffers": "256MB",
    "max_wal_size": "4GB",
    "timezone": "UTC",
    "ssl": "off",
    "password_encryption": "scram-sha-256",
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    """One running cluster in FOLDER; :meth:`start` it, :meth:`stop` it when done."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.socket_dir = folder / "socket"
        self.log_file = folder / "postgres.log"
        self.host = "127.0.0.1"
        self.port = free_port()
        self.version = ""
        self._started = False

    def _as_server(self, argv: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return argv
        return [shutil.which("runuser") or "/usr/sbin/runuser", "-u", OS_USER, "--", *argv]

    def _pg(self, tool: str, *args: str) -> None:
        argv = self._as_server([str(PG_BIN / tool), *args])
        proc = subprocess.run(
            argv,
            check=False,
            capture_output=True,
            text=True,
            env={"LANG": "C", "PATH": "/usr/bin:/bin"},
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"{tool} failed ({proc.returncode}): {proc.stderr.strip()}\n{self.log_tail()}"
            )

    def start(self) -> PgServer:
        """initdb, configure, start, and create the ``bench`` role and database."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir()
        self.folder.chmod(0o755)
        if os.geteuid() == 0:
            entry = pwd.getpwnam(OS_USER)  # Debian's postgresql package creates this user
            for path in (self.folder, self.socket_dir):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self._pg(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "-N",
        )
        conf = {
            "listen_addresses": self.host,
            "port": str(self.port),
            "unix_socket_directories": str(self.socket_dir),
            **SETTINGS,
        }
        with open(self.data / "postgresql.conf", "a") as f:
            f.write("\n# tinyrun bench (bench/pgserver.py): NOT a production configuration\n")
            f.writelines(f"{key} = '{value}'\n" for key, value in conf.items())
        (self.data / "pg_hba.conf").write_text(
            f"local all postgres trust\nhost {DBNAME} {ROLE} {self.host}/32 scram-sha-256\n"
        )
        self._pg(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log_file), "-w", "-t", "60", "start"
        )
        self._started = True
        self.psql(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'", dbname="postgres")
        self.psql(f"CREATE DATABASE {DBNAME} OWNER {ROLE}", dbname="postgres")
        self.version = self.psql("SHOW server_version")
        return self

    def stop(self) -> None:
        """Stop the server at once; its data is thrown away."""
        if self._started:
            self._started = False
            with contextlib.suppress(RuntimeError):
                self._pg("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def log_tail(self) -> str:
        """The end of the server log, for error messages."""
        if not self.log_file.exists():
            return ""
        return "--- postgres.log\n" + self.log_file.read_text(errors="replace")[-3000:]

    def psql(self, sql: str, dbname: str = DBNAME) -> str:
        """Run SQL (one or more statements) as the superuser; return psql's unaligned output."""
        argv = [PSQL, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", str(self.socket_dir)]
        argv += ["-p", str(self.port), "-U", "postgres", "-d", dbname]
        proc = subprocess.run(argv, check=False, input=sql, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"psql failed ({proc.returncode}) on {sql!r}: {proc.stderr.strip()}")
        return proc.stdout.strip()

    def client_env(self, conn_id: str) -> dict[str, str]:
        """Environment for the contestants: libpq's ``PG*`` and ``AIRFLOW_CONN_<CONN_ID>``."""
        return {
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGUSER": ROLE,
            "PGPASSWORD": PASSWORD,
            "PGDATABASE": DBNAME,
            f"AIRFLOW_CONN_{conn_id.upper()}": (
                f"postgres://{ROLE}:{PASSWORD}@{self.host}:{self.port}/{DBNAME}"
            ),
        }
