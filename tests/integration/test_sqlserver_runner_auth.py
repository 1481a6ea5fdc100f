"""sqlserver-runner logging in to the TDS test server: SQL logins (URI and JSON forms, secret
files), Kerberos from a ticket cache or a keytab (the TDS server checks the GSSAPI token against
the test KDC), the run identity as the LOGIN7 AppName, and the exit codes of refused logins and
tickets (3) and of servers that are down or silent (75)."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from harness.checks import assert_fails, assert_ok, assert_secret_absent
from harness.kdc import Kdc, KerberosUser
from harness.net import SilentListener, TcpForwarder
from harness.pgcluster import PASSWORD, PgCluster
from harness.result import RunResult
from mssql import mssql_env, mssql_uri
from tds.server import TdsServer

Runner = Callable[..., RunResult]
CHECK = ["check", "--conn", "mssql"]


def kerberos_env(
    tds: TdsServer, db: str, alice: KerberosUser, **kwargs: object
) -> dict[str, str]:
    return mssql_env(tds, db, user=None, host="127.0.0.1", **kwargs) | {
        "KRB5_CONFIG": str(alice.krb5_conf)
    }


def test_json_connection_and_secret_files(
    sqlserver_runner: Runner, tds: TdsServer, pg_db: str, tmp_path: Path
) -> None:
    conn = {
        "conn_type": "mssql",
        "host": "localhost",
        "port": tds.port,
        "login": "tinyrun",
        "schema": pg_db,
        "extra": {"encrypt": "mandatory"},
    }
    env = {"AIRFLOW_CONN_MSSQL": json.dumps(conn), "SSL_CERT_FILE": str(tds.ca_file)}
    password = tmp_path / "password"
    password.write_text(PASSWORD + "\n")
    password.chmod(0o600)
    result = sqlserver_runner([*CHECK, "--password-file", str(password)], env=env)
    assert assert_ok(result)["login"] == "tinyrun"
    assert_secret_absent(result, PASSWORD)
    conn_file = tmp_path / "conn"
    conn_file.write_text(mssql_uri(tds, pg_db) + "\n")
    env = {"TINYRUN_CONN_FILE": str(conn_file), "SSL_CERT_FILE": str(tds.ca_file)}
    assert assert_ok(sqlserver_runner(["check"], env=env))["database"] == pg_db


def test_run_identity_is_the_app_name(
    sqlserver_runner: Runner, tds: TdsServer, pg: PgCluster, pg_db: str
) -> None:
    sql = (
        "CREATE TABLE app (name nvarchar(200))\n"
        "INSERT INTO app SELECT current_setting('application_name')\n"
    )
    identity = {
        "TINYRUN_DAG_ID": "sales_daily",
        "TINYRUN_TASK_ID": "load",
        "TINYRUN_RUN_ID": "scheduled__2026-01-01",
        "TINYRUN_TRY_NUMBER": "2",
    }
    env = mssql_env(tds, pg_db) | identity
    assert_ok(sqlserver_runner(["run", "--conn", "mssql", "-c", sql], env=env))
    name = pg.sql("SELECT name FROM app", dbname=pg_db)[0][0]
    assert name == "tds:tinyrun/sales_daily/load/scheduled__2026-01-01/2"
    env = mssql_env(tds, pg_db, extra={"app_name": "nightly-etl"}) | identity
    sql = "INSERT INTO app SELECT current_setting('application_name')"
    assert_ok(sqlserver_runner(["run", "--conn", "mssql", "-c", sql], env=env))
    assert ("tds:nightly-etl",) in pg.sql("SELECT name FROM app", dbname=pg_db)


def test_kerberos_from_a_keytab(
    sqlserver_runner: Runner, tds: TdsServer, alice: KerberosUser, pg_db: str
) -> None:
    args = [*CHECK, "--keytab", str(alice.keytab), "--principal", alice.principal]
    out = assert_ok(sqlserver_runner(args, env=kerberos_env(tds, pg_db, alice)))
    assert out["auth_scheme"] == "KERBEROS" and out["login"] == "alice"


def test_kerberos_with_a_given_spn(
    sqlserver_runner: Runner, tds: TdsServer, alice: KerberosUser, pg_db: str
) -> None:
    spn = f"MSSQLSvc/localhost:{tds.port}"
    env = kerberos_env(tds, pg_db, alice, extra={"spn": spn}) | {
        "KRB5CCNAME": alice.ccache
    }
    assert assert_ok(sqlserver_runner(CHECK, env=env))["spn"] == spn


def test_kerberos_unknown_spn_exits_3(
    sqlserver_runner: Runner, tds: TdsServer, alice: KerberosUser, pg_db: str
) -> None:
    spn = f"MSSQLSvc/nowhere.example:{tds.port}"
    env = kerberos_env(tds, pg_db, alice, extra={"spn": spn}) | {
        "KRB5CCNAME": alice.ccache
    }
    assert spn in assert_fails(sqlserver_runner(CHECK, env=env), 3)["error"]


def test_kerberos_without_a_ticket_exits_3(
    sqlserver_runner: Runner,
    tds: TdsServer,
    alice: KerberosUser,
    pg_db: str,
    tmp_path: Path,
) -> None:
    before = len(tds.kerberos.logins)
    env = kerberos_env(tds, pg_db, alice) | {"KRB5CCNAME": f"FILE:{tmp_path}/none"}
    for args in (CHECK, ["run", "--conn", "mssql", "-c", "SELECT 1"]):
        assert_fails(sqlserver_runner(args, env=env), 3)
    assert len(tds.kerberos.logins) == before


def test_kerberos_expired_ticket_exits_3(
    sqlserver_runner: Runner,
    tds: TdsServer,
    alice: KerberosUser,
    alice_expired_ccache: Path,
    pg_db: str,
) -> None:
    env = kerberos_env(tds, pg_db, alice) | {
        "KRB5CCNAME": f"FILE:{alice_expired_ccache}"
    }
    assert_fails(sqlserver_runner(CHECK, env=env), 3)


def test_kerberos_wrong_keytab_exits_3(
    sqlserver_runner: Runner,
    tds: TdsServer,
    alice: KerberosUser,
    kdc: Kdc,
    tmp_path: Path,
) -> None:
    stale = kdc.add_principal(f"stale{secrets.token_hex(4)}")
    keytab = kdc.keytab(stale, tmp_path / "stale.keytab")
    kdc.kadmin(f"cpw -randkey {stale}")  # the keytab's key is now outdated
    args = [*CHECK, "--keytab", str(keytab), "--principal", stale]
    assert_fails(sqlserver_runner(args, env=kerberos_env(tds, "tinyrun", alice)), 3)


def test_wrong_password_exits_3_for_run(
    sqlserver_runner: Runner, tds: TdsServer
) -> None:
    env = mssql_env(tds, "tinyrun", password="wrong-Password-42")
    result = sqlserver_runner(["run", "--conn", "mssql", "-c", "SELECT 1"], env=env)
    assert_fails(result, 3)
    assert_secret_absent(result, "wrong-Password-42")


def test_password_without_login_exits_2(
    sqlserver_runner: Runner, tds: TdsServer
) -> None:
    env = mssql_env(tds, "tinyrun", user="", password="pw")
    assert "login" in assert_fails(sqlserver_runner(CHECK, env=env), 2)["error"]


def test_connect_timeout_exits_75(sqlserver_runner: Runner, tds: TdsServer) -> None:
    silent = SilentListener()
    try:
        env = mssql_env(tds, "tinyrun", port=silent.port)
        args = [*CHECK, "--connect-timeout", "2s", "--retries", "0"]
        result = sqlserver_runner(args, env=env, timeout=60)
    finally:
        silent.close()
    assert "connect-timeout" in assert_fails(result, 75)["error"]
    assert 1.9 <= result.duration < 5, (
        result
    )  # one attempt of --connect-timeout 2s, no retry


def test_retries_until_the_server_appears(
    sqlserver_runner: Runner, tds: TdsServer
) -> None:
    forwarder = TcpForwarder(("127.0.0.1", tds.port))
    timer = threading.Timer(1.5, forwarder.start)
    timer.start()
    try:
        env = mssql_env(tds, "tinyrun", port=forwarder.port)
        result = sqlserver_runner([*CHECK, "--retries", "6"], env=env, timeout=120)
    finally:
        timer.cancel()
        forwarder.stop()
    assert_ok(result)


@pytest.mark.parametrize("conn_type", ["postgres", "oracle"])
def test_other_connection_types_exit_2(
    sqlserver_runner: Runner, tds: TdsServer, conn_type: str
) -> None:
    env = mssql_env(tds, "tinyrun")
    env["AIRFLOW_CONN_MSSQL"] = env["AIRFLOW_CONN_MSSQL"].replace(
        "mssql://", f"{conn_type}://"
    )
    assert "mssql" in assert_fails(sqlserver_runner(CHECK, env=env), 2)["error"]
