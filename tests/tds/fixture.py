"""Starting the TDS test server in front of the session's PostgreSQL (used by conftest fixtures)."""

from __future__ import annotations

from pathlib import Path

from harness.kdc import Kdc
from harness.pgcluster import PgCluster

from .kerberos import Acceptor
from .server import TdsServer


def start_tds_server(pg: PgCluster, folder: Path, kdc: Kdc | None = None) -> TdsServer:
    """A TDS server on a free loopback port, TLS with a test-CA certificate for
    localhost/127.0.0.1 (clients verify against ``pg.ca_file``), and with KDC, Kerberos logins
    for ``MSSQLSvc/127.0.0.1:PORT`` and ``MSSQLSvc/localhost:PORT`` (pyspnego-based clients
    turn 127.0.0.1 into localhost)."""
    cert = pg.ca.issue_server("tds", ["localhost", "127.0.0.1"])
    server = TdsServer(pg.host, pg.port, pg.socket_dir, cert=cert.cert, key=cert.key)
    server.ca_file = pg.ca_file
    server.start()
    if kdc is not None:
        keytab = folder / "mssql.keytab"
        for host in ("127.0.0.1", "localhost"):
            kdc.keytab(kdc.add_principal(f"MSSQLSvc/{host}:{server.port}"), keytab)
        server.kerberos = Acceptor(keytab)
    return server
