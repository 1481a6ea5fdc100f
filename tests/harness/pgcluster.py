"""A PostgreSQL cluster for the test session (Debian's postgresql-15 binaries).

One cluster per session in its own folder, listening on 127.0.0.1 (and ::1 when available) on a
free port and on a unix socket in that folder. It runs as the ``postgres`` system user when the
session runs as root. Authentication (pg_hba.conf), so that tests can force each path:

==============  =================  ==============================================
role            connection          method
==============  =================  ==============================================
postgres        unix socket         trust (the harness's own superuser access)
tinyrun         any TCP, socket     scram-sha-256, password :data:`PASSWORD`
tinyrun_tls     TLS only (hostssl)  scram-sha-256, password :data:`PASSWORD`
tinyrun_quote   any TCP             scram-sha-256, password :data:`QUOTE_PASSWORD`
alice           GSS-encrypted/TCP   gss (Kerberos ``alice@REALM``, include_realm=0)
==============  =================  ==============================================

TLS uses a server certificate for ``localhost``/``127.0.0.1``/``::1`` signed by a test CA whose
certificate is :attr:`PgCluster.ca_file`. GSSAPI uses a keytab for ``postgres/localhost@REALM``,
so Kerberos clients must connect to host ``localhost``.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path
from typing import Any

from . import airflow
from .kdc import Kdc
from .net import free_port, ipv6_loopback, wait_for_port
from .osuser import as_user, ensure_system_user, give_to
from .tls import TestCA

PG_BIN = Path(os.environ.get("TINYRUN_PG_BIN", "/usr/lib/postgresql/15/bin"))
OS_USER = "postgres"

#: tinyrun's password: URL-special characters, so URI encoding is exercised on every test.
PASSWORD = "p@ss:w/rd%?&"
#: A password that breaks naive libpq conninfo strings (quote, backslash, space, '#', '=').
QUOTE_PASSWORD = "it's a \\ p#ss=w rd"
_USE_DEFAULT = object()


class PgCluster:
    """A running PostgreSQL cluster; see the module docstring for roles and authentication."""

    superuser = "postgres"
    user = "tinyrun"
    dbname = "tinyrun"
    password = PASSWORD
    gss_user = "alice"

    def __init__(self, folder: Path, kdc: Kdc) -> None:
        self.folder = folder
        self.kdc = kdc
        self.data = folder / "data"
        self.socket_dir = folder / "socket"
        self.log_file = folder / "postgres.log"
        self.keytab = folder / "postgres.keytab"
        self.host = "127.0.0.1"
        self.port = free_port()
        self.ca = TestCA(folder / "ca")
        self.ca_file = self.ca.cert
        self.service_principal = f"postgres/localhost@{kdc.realm}"
        self._started = False

    # -- lifecycle -------------------------------------------------------------------------

    def _server_env(self) -> dict[str, str]:
        return {
            "PATH": f"{PG_BIN}:/usr/bin:/bin",
            "KRB5_CONFIG": str(self.kdc.krb5_conf),
            "KRB5RCACHETYPE": "none",
            "LANG": "C",
        }

    def _pg(self, tool: str, *args: str) -> None:
        argv = as_user(OS_USER, [str(PG_BIN / tool), *args])
        proc = subprocess.run(argv, env=self._server_env(), capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(
                f"{tool} failed ({proc.returncode}): {proc.stderr.strip()}\n{self.diagnostics()}"
            )

    def start(self) -> PgCluster:
        """initdb, configure authentication/TLS/GSSAPI, start, and create roles and databases."""
        ensure_system_user(OS_USER)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o755)
        self.socket_dir.mkdir()

        cert = self.ca.issue_server("server", ["localhost", "127.0.0.1", "::1"])
        self.kdc.add_principal(self.service_principal)
        self.kdc.keytab(self.service_principal, self.keytab)
        self.keytab.chmod(0o600)
        give_to(OS_USER, self.folder)

        self._pg(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            self.superuser,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "-N",
        )
        listen = "127.0.0.1,::1" if ipv6_loopback() else "127.0.0.1"
        conf = {
            "listen_addresses": listen,
            "port": str(self.port),
            "unix_socket_directories": str(self.socket_dir),
            "max_connections": "60",
            "shared_buffers": "32MB",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "password_encryption": "scram-sha-256",
            "ssl": "on",
            "ssl_cert_file": str(cert.cert),
            "ssl_key_file": str(cert.key),
            "krb_server_keyfile": f"FILE:{self.keytab}",
            "log_connections": "on",
            "log_min_messages": "warning",
            "logging_collector": "off",
        }
        with open(self.data / "postgresql.conf", "a") as f:
            f.write("\n# tinyrun test harness\n")
            f.writelines(f"{key} = '{value}'\n" for key, value in conf.items())
        (self.data / "pg_hba.conf").write_text(self._hba())
        give_to(OS_USER, self.data)

        self._pg(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log_file), "-w", "-t", "60", "start"
        )
        self._started = True
        wait_for_port(self.host, self.port, timeout=30)
        self._bootstrap()
        return self

    def _hba(self) -> str:
        realm = self.kdc.realm
        nets = ["127.0.0.1/32"] + (["::1/128"] if ipv6_loopback() else [])
        lines = [
            "# TYPE  DATABASE USER METHOD (written by tests/harness/pgcluster.py)",
            "local all postgres trust",
            "local all tinyrun scram-sha-256",
        ]
        for net in nets:
            lines += [
                f"host all tinyrun {net} scram-sha-256",
                f"hostssl all tinyrun_tls {net} scram-sha-256",
                f"host all tinyrun_quote {net} scram-sha-256",
                f"hostgssenc all alice {net} gss include_realm=0 krb_realm={realm}",
                f"host all alice {net} gss include_realm=0 krb_realm={realm}",
            ]
        return "\n".join(lines) + "\n"

    def _bootstrap(self) -> None:
        from psycopg2 import sql as q

        for role, password in (
            ("tinyrun", PASSWORD),
            ("tinyrun_tls", PASSWORD),
            ("tinyrun_quote", QUOTE_PASSWORD),
            ("alice", None),
        ):
            self.sql(q.SQL("CREATE ROLE {} LOGIN").format(q.Identifier(role)), dbname="postgres")
            if password is not None:
                self.sql(
                    q.SQL("ALTER ROLE {} PASSWORD %s").format(q.Identifier(role)),
                    dbname="postgres",
                    params=(password,),
                )
        self.create_db("tinyrun")
        self.sql("GRANT CONNECT, TEMPORARY ON DATABASE tinyrun TO PUBLIC", dbname="postgres")

    def stop(self) -> None:
        """Stop the server immediately (the data is thrown away anyway)."""
        if not self._started:
            return
        self._started = False
        with contextlib.suppress(RuntimeError):
            self._pg("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def diagnostics(self) -> str:
        """The tail of the server log, for error messages."""
        if self.log_file.exists():
            return "--- postgres.log\n" + self.log_file.read_text(errors="replace")[-4000:]
        return ""

    # -- superuser access ------------------------------------------------------------------

    def connect(self, dbname: str = "tinyrun", **kwargs: Any) -> Any:
        """A psycopg2 connection as the superuser over the unix socket (autocommit)."""
        import psycopg2

        conn = psycopg2.connect(
            host=str(self.socket_dir),
            port=self.port,
            user=self.superuser,
            dbname=dbname,
            **kwargs,
        )
        conn.autocommit = True
        return conn

    def sql(
        self, query: Any, dbname: str = "tinyrun", params: Any = None, role: str | None = None
    ) -> list[tuple]:
        """Run QUERY as the superuser (or, with ROLE, as that role via SET ROLE, so the objects
        it creates belong to ROLE) and return its rows (empty for statements without)."""
        from psycopg2 import sql as q

        conn = self.connect(dbname)
        try:
            with conn.cursor() as cur:
                if role:
                    cur.execute(q.SQL("SET ROLE {}").format(q.Identifier(role)))
                cur.execute(query, params)
                return cur.fetchall() if cur.description is not None else []
        finally:
            conn.close()

    def create_db(self, name: str, owner: str = "tinyrun") -> str:
        """Create database NAME owned by OWNER; returns NAME."""
        from psycopg2 import sql as q

        self.sql(
            q.SQL("CREATE DATABASE {} OWNER {}").format(q.Identifier(name), q.Identifier(owner)),
            dbname="postgres",
        )
        return name

    def drop_db(self, name: str) -> None:
        """Drop database NAME, disconnecting its sessions."""
        from psycopg2 import sql as q

        self.sql(
            q.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(q.Identifier(name)),
            dbname="postgres",
        )

    # -- what clients use ------------------------------------------------------------------

    def _password_for(self, user: str, password: object) -> str | None:
        if password is not _USE_DEFAULT:
            return password  # type: ignore[return-value]
        return {"tinyrun": PASSWORD, "tinyrun_tls": PASSWORD, "tinyrun_quote": QUOTE_PASSWORD}.get(
            user
        )

    def tls_extra(self, ca_file: str | Path | None = None) -> dict[str, str]:
        """libpq extras for sslmode=verify-full against the test CA (or CA_FILE)."""
        return {"sslmode": "verify-full", "sslrootcert": str(ca_file or self.ca_file)}

    def airflow_uri(
        self,
        user: str = "tinyrun",
        password: Any = _USE_DEFAULT,
        dbname: str = "tinyrun",
        host: str | None = None,
        port: int | None = None,
        extra: dict[str, Any] | None = None,
        conn_type: str = "postgres",
    ) -> str:
        """This cluster as an Airflow connection URI (the user's own password by default)."""
        return airflow.conn_uri(
            conn_type,
            host or self.host,
            port or self.port,
            user,
            self._password_for(user, password),
            dbname,
            extra,
        )

    def airflow_json(
        self,
        user: str = "tinyrun",
        password: Any = _USE_DEFAULT,
        dbname: str = "tinyrun",
        host: str | None = None,
        port: int | None = None,
        extra: dict[str, Any] | None = None,
        conn_type: str = "postgres",
    ) -> str:
        """This cluster as an Airflow connection in JSON form."""
        return airflow.conn_json(
            conn_type,
            host or self.host,
            port or self.port,
            user,
            self._password_for(user, password),
            dbname,
            extra,
        )

    def conn_env(self, conn_id: str = "pg", form: str = "uri", **kwargs: Any) -> dict[str, str]:
        """``{"AIRFLOW_CONN_<ID>": ...}`` for this cluster; FORM is "uri" or "json", KWARGS go
        to :meth:`airflow_uri` / :meth:`airflow_json`."""
        value = self.airflow_json(**kwargs) if form == "json" else self.airflow_uri(**kwargs)
        return {airflow.env_name(conn_id): value}

    def activity(self, where: str, params: Any = None) -> list[tuple]:
        """Rows (pid, application_name, state, query) of pg_stat_activity matching WHERE,
        excluding the harness's own session."""
        return self.sql(
            "SELECT pid, application_name, state, query FROM pg_stat_activity "
            f"WHERE pid <> pg_backend_pid() AND ({where})",
            dbname="postgres",
            params=params,
        )
