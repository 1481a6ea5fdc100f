"""The TDS test server as an Airflow ``mssql`` connection, for the sqlserver-runner tests."""

from __future__ import annotations

from typing import Any

import pytds
from harness import airflow
from harness.pgcluster import PASSWORD, PgCluster
from tds.server import TdsServer

USE_DEFAULT: Any = object()


def mssql_uri(
    tds: TdsServer,
    db: str,
    user: str | None = "tinyrun",
    password: Any = USE_DEFAULT,
    extra: dict[str, Any] | None = None,
    host: str = "localhost",
    port: int | None = None,
) -> str:
    """An Airflow URI for TDS as USER (no password: Kerberos) on DB; the host is the
    certificate's name, so the default (encrypt mandatory, verified) works."""
    if password is USE_DEFAULT:
        password = PASSWORD if user == "tinyrun" else None
    return airflow.conn_uri("mssql", host, port or tds.port, user, password, db, extra)


def mssql_env(
    tds: TdsServer, db: str, conn_id: str = "mssql", **kwargs: Any
) -> dict[str, str]:
    """``AIRFLOW_CONN_<ID>`` for :func:`mssql_uri` plus SSL_CERT_FILE, the test CA."""
    return {
        airflow.env_name(conn_id): mssql_uri(tds, db, **kwargs),
        "SSL_CERT_FILE": str(tds.ca_file),
    }


def pytds_connect(tds: TdsServer, pg: PgCluster, db: str, **kwargs: Any) -> Any:
    """python-tds (an independent client) as tinyrun on DB over verified TLS; autocommit unless
    told otherwise."""
    kwargs.setdefault("autocommit", True)
    # "localhost" is the certificate's CN: python-tds 1.17.1 checks SANs with an API that
    # pyOpenSSL no longer has, so only the CN path of its host check works
    return pytds.connect(
        "localhost",
        db,
        "tinyrun",
        PASSWORD,
        port=tds.port,
        cafile=str(pg.ca_file),
        **kwargs,
    )
