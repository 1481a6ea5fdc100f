"""sqlserver-runner check against the TDS test server: what the server says about the
connection (login, database, encryption, auth scheme), the SPN with Kerberos, and the exit codes
of a misconfigured connection (2), a refused login (3) and an unreachable server (75)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from harness.checks import assert_fails, assert_ok, assert_secret_absent
from harness.kdc import KerberosUser
from harness.net import free_port
from harness.pgcluster import PASSWORD
from harness.result import RunResult
from mssql import mssql_env
from tds.server import TdsServer

Runner = Callable[..., RunResult]


def test_check_sql_login_over_verified_tls(
    sqlserver_runner: Runner, tds: TdsServer, pg_db: str
) -> None:
    result = sqlserver_runner(["check", "--conn", "mssql"], env=mssql_env(tds, pg_db))
    out = assert_ok(result)
    assert out["login"] == "tinyrun"
    assert out["database"] == pg_db
    assert out["encrypted"] is True and out["encrypt"] == "mandatory"
    assert out["verify_server"] is True
    assert out["auth_scheme"] == "SQL" and out["auth"] == "sql"
    assert "SQL Server" in out["server_version"]
    assert_secret_absent(result, PASSWORD)


def test_check_encrypt_off_and_trusted_certificate(
    sqlserver_runner: Runner, tds: TdsServer, pg_db: str
) -> None:
    env = mssql_env(tds, pg_db, extra={"encrypt": "off"})
    assert (
        assert_ok(sqlserver_runner(["check", "--conn", "mssql"], env=env))["encrypted"]
        is False
    )
    # no CA that signed the server's certificate: only trust_server_certificate works
    env = mssql_env(tds, pg_db, extra={"trust_server_certificate": "true"})
    env.pop("SSL_CERT_FILE")
    out = assert_ok(sqlserver_runner(["check", "--conn", "mssql"], env=env))
    assert out["encrypted"] is True and out["verify_server"] is False


def test_check_untrusted_certificate_is_a_configuration_error(
    sqlserver_runner: Runner, tds: TdsServer, pg_db: str
) -> None:
    env = mssql_env(tds, pg_db)
    env["SSL_CERT_FILE"] = (
        "/etc/ssl/certs/ca-certificates.crt"  # the system CAs: not the test CA
    )
    assert_fails(sqlserver_runner(["check", "--conn", "mssql"], env=env), 2)


def test_check_kerberos_reports_the_spn(
    sqlserver_runner: Runner, tds: TdsServer, alice: KerberosUser, pg_db: str
) -> None:
    env = mssql_env(tds, pg_db, user=None, host="127.0.0.1") | {
        "KRB5_CONFIG": str(alice.krb5_conf),
        "KRB5CCNAME": str(alice.ccache),
    }
    before = len(tds.kerberos.logins)
    out = assert_ok(sqlserver_runner(["check", "--conn", "mssql"], env=env))
    assert out["auth_scheme"] == "KERBEROS" and out["auth"] == "kerberos"
    assert out["login"] == "alice"
    assert out["spn"] == f"MSSQLSvc/127.0.0.1:{tds.port}"
    assert tds.kerberos.logins[before:] == [alice.principal]


def test_check_wrong_password_exits_3(
    sqlserver_runner: Runner, tds: TdsServer, pg_db: str
) -> None:
    env = mssql_env(tds, pg_db, password="wrong-" + PASSWORD)
    result = assert_fails(sqlserver_runner(["check", "--conn", "mssql"], env=env), 3)
    assert "18456" in result.get("error", "")


@pytest.mark.parametrize(
    "extra,word",
    [
        ({"encrypt": "sometimes"}, "encrypt"),
        ({"trust_server_certificate": "maybe"}, "trust"),
    ],
)
def test_check_bad_extras_exit_2(
    sqlserver_runner: Runner,
    tds: TdsServer,
    pg_db: str,
    extra: dict[str, str],
    word: str,
) -> None:
    result = sqlserver_runner(
        ["check", "--conn", "mssql"], env=mssql_env(tds, pg_db, extra=extra)
    )
    assert word in assert_fails(result, 2)["error"]


def test_check_unreachable_server_exits_75(
    sqlserver_runner: Runner, tds: TdsServer
) -> None:
    env = mssql_env(tds, "tinyrun", port=free_port())
    result = sqlserver_runner(["check", "--conn", "mssql", "--retries", "1"], env=env)
    assert_fails(result, 75)


def test_check_strict_encryption_names_tds_8(
    sqlserver_runner: Runner, tds: TdsServer, pg_db: str
) -> None:
    """The TDS test server speaks TDS 7.4 only: TLS-first (TDS 8.0) logins fail, and say why."""
    env = mssql_env(tds, pg_db, extra={"encrypt": "strict"})
    result = sqlserver_runner(["check", "--conn", "mssql", "--retries", "0"], env=env)
    assert "TDS 8.0" in assert_fails(result, 75)["error"]
