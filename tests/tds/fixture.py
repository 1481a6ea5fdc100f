"""Starting the TDS test server in front of the session's PostgreSQL (used by conftest fixtures)."""

from __future__ import annotations

from pathlib import Path

from harness.pgcluster import PgCluster

from .server import TdsServer


def start_tds_server(pg: PgCluster, folder: Path) -> TdsServer:
    """A TDS server on a free loopback port, TLS with a test-CA certificate for
    localhost/127.0.0.1 (clients verify against ``pg.ca_file``)."""
    cert = pg.ca.issue_server("tds", ["localhost", "127.0.0.1"])
    server = TdsServer(pg.host, pg.port, pg.socket_dir, cert=cert.cert, key=cert.key)
    server.ca_file = pg.ca_file
    return server.start()
