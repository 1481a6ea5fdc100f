"""postgres-runner connecting: password (URI/JSON, URL-encoding, secret files), TLS up to
verify-full, Kerberos/GSSAPI from a ticket cache or a keytab, the `check` report, and the exit
codes for refused logins (3) and unreachable servers (75, after --retries)."""

from __future__ import annotations

import secrets
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from harness.checks import assert_fails, assert_ok, assert_secret_absent
from harness.kdc import Kdc, KerberosUser
from harness.net import SilentListener, TcpForwarder, free_port
from harness.pgcluster import PASSWORD, QUOTE_PASSWORD, PgCluster
from harness.result import RunResult
from harness.tls import TestCA

Runner = Callable[..., RunResult]
WHOAMI = "SELECT current_user || '@' || current_database()"


def whoami(postgres_runner: Runner, env: dict[str, str], *extra: str) -> tuple[RunResult, str]:
    """Run `query WHOAMI` and return the run and its one data line."""
    result = postgres_runner(["query", "--conn", "pg", *extra, "--format", "csv", WHOAMI], env=env)
    assert_ok(result)
    data = result.data_lines()
    assert len(data) == 1, result
    return result, data[0]


@pytest.mark.parametrize("form", ["uri", "json"])
@pytest.mark.parametrize(
    "user,password",
    [("tinyrun", PASSWORD), ("tinyrun_quote", QUOTE_PASSWORD)],
    ids=["url-special", "quote-backslash"],
)
def test_password_login(
    postgres_runner: Runner, pg: PgCluster, form: str, user: str, password: str
) -> None:
    env = pg.conn_env(form=form, user=user) | {"TINYRUN_LOG_LEVEL": "debug"}
    result, data = whoami(postgres_runner, env)
    assert data == f"{user}@tinyrun"
    assert_secret_absent(result, password, quote(password, safe=""))


def test_postgresql_scheme_and_unix_socket_host(postgres_runner: Runner, pg: PgCluster) -> None:
    env = pg.conn_env(conn_type="postgresql")
    assert whoami(postgres_runner, env)[1] == "tinyrun@tinyrun"
    env = pg.conn_env(host=str(pg.socket_dir))
    assert whoami(postgres_runner, env)[1] == "tinyrun@tinyrun"


def test_connection_from_files(postgres_runner: Runner, pg: PgCluster, tmp_path: Path) -> None:
    secret = tmp_path / "conn"
    secret.write_text(pg.airflow_uri() + "\n")
    secret.chmod(0o600)
    assert whoami(postgres_runner, {"AIRFLOW_CONN_PG_FILE": str(secret)})[1] == "tinyrun@tinyrun"
    result = postgres_runner(["check", "--conn-file", str(secret)])
    assert_ok(result)


def test_password_from_secret_file(postgres_runner: Runner, pg: PgCluster, tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text(PASSWORD + "\n")
    secret.chmod(0o600)
    env = pg.conn_env(password=None)
    assert whoami(postgres_runner, env, "--password-file", str(secret))[1] == "tinyrun@tinyrun"
    env |= {"TINYRUN_PASSWORD_FILE": str(secret)}
    result, data = whoami(postgres_runner, env)
    assert data == "tinyrun@tinyrun"
    assert_secret_absent(result, PASSWORD)


def test_flags_from_environment(postgres_runner: Runner, pg: PgCluster) -> None:
    result = postgres_runner(["check"], env=pg.conn_env() | {"TINYRUN_CONN": "pg"})
    assert_ok(result)


def test_wrong_password_exit_3(postgres_runner: Runner, pg: PgCluster) -> None:
    for cmd in (["check", "--conn", "pg"], ["run", "--conn", "pg", "-c", "SELECT 1"]):
        result = postgres_runner(cmd, env=pg.conn_env(password="wrong-Password-42"))
        assert_fails(result, 3)
        assert_secret_absent(result, "wrong-Password-42")


def test_check_reports_the_connection(postgres_runner: Runner, pg: PgCluster) -> None:
    env = pg.conn_env(extra={"sslmode": "disable", "gssencmode": "disable"})
    res = assert_ok(postgres_runner(["check", "--conn", "pg"], env=env))
    assert res["user"] == "tinyrun" and res["database"] == "tinyrun", res
    assert res["ssl"] is False and res["gss"] is False, res
    server = pg.sql("SHOW server_version")[0][0]
    assert str(res["server_version"]).startswith(server.split()[0].split(".")[0]), res


def test_tls_verify_full(postgres_runner: Runner, pg: PgCluster) -> None:
    for host in ("127.0.0.1", "localhost"):
        env = pg.conn_env(user="tinyrun_tls", host=host, extra=pg.tls_extra())
        res = assert_ok(postgres_runner(["check", "--conn", "pg"], env=env))
        assert res["ssl"] is True, res
        assert whoami(postgres_runner, env)[1] == "tinyrun_tls@tinyrun"


def test_tls_required_role_without_tls_is_refused(postgres_runner: Runner, pg: PgCluster) -> None:
    env = pg.conn_env(user="tinyrun_tls", extra={"sslmode": "disable", "gssencmode": "disable"})
    result = postgres_runner(["check", "--conn", "pg"], env=env)
    assert_fails(result, 3)


def test_tls_wrong_ca_is_refused(postgres_runner: Runner, pg: PgCluster, tmp_path: Path) -> None:
    other = TestCA(tmp_path / "ca", name="some other CA")
    env = pg.conn_env(user="tinyrun_tls", extra=pg.tls_extra(other.cert))
    result = postgres_runner(["check", "--conn", "pg", "--retries", "0"], env=env)
    assert_fails(result, 2)  # a configuration error (the trust store): retrying cannot help


def test_gssapi_with_ticket_cache(
    postgres_runner: Runner, pg: PgCluster, alice: KerberosUser
) -> None:
    env = pg.conn_env(user="alice", host="localhost") | {
        "KRB5CCNAME": alice.ccache,
        "KRB5_CONFIG": str(alice.krb5_conf),
    }
    res = assert_ok(postgres_runner(["check", "--conn", "pg"], env=env))
    assert res["user"] == "alice" and res["gss"] is True, res
    assert whoami(postgres_runner, env)[1] == "alice@tinyrun"


def test_gssapi_with_keytab(postgres_runner: Runner, pg: PgCluster, alice: KerberosUser) -> None:
    base = pg.conn_env(user="alice", host="localhost") | {"KRB5_CONFIG": str(alice.krb5_conf)}
    args = ["--keytab", str(alice.keytab), "--principal", alice.principal]
    assert whoami(postgres_runner, base, *args)[1] == "alice@tinyrun"
    env = base | {"KRB5_CLIENT_KTNAME": str(alice.keytab)}
    assert whoami(postgres_runner, env, "--principal", alice.principal)[1] == "alice@tinyrun"


def test_gssapi_without_ticket_exit_3(
    postgres_runner: Runner,
    pg: PgCluster,
    alice: KerberosUser,
    tmp_path: Path,
) -> None:
    env = pg.conn_env(user="alice", host="localhost") | {
        "KRB5CCNAME": f"FILE:{tmp_path / 'no-such-cache'}",
        "KRB5_CONFIG": str(alice.krb5_conf),
    }
    assert_fails(postgres_runner(["check", "--conn", "pg"], env=env), 3)
    assert_fails(postgres_runner(["run", "--conn", "pg", "-c", "SELECT 1"], env=env), 3)


def test_gssapi_expired_ticket_exit_3(
    postgres_runner: Runner,
    pg: PgCluster,
    alice: KerberosUser,
    alice_expired_ccache: Path,
) -> None:
    env = pg.conn_env(user="alice", host="localhost") | {
        "KRB5CCNAME": f"FILE:{alice_expired_ccache}",
        "KRB5_CONFIG": str(alice.krb5_conf),
    }
    assert_fails(postgres_runner(["run", "--conn", "pg", "-c", "SELECT 1"], env=env), 3)


def test_gssapi_wrong_keytab_exit_3(
    postgres_runner: Runner,
    pg: PgCluster,
    alice: KerberosUser,
    kdc: Kdc,
    tmp_path: Path,
) -> None:
    stale = kdc.add_principal(f"stale{secrets.token_hex(4)}")
    keytab = kdc.keytab(stale, tmp_path / "stale.keytab")
    kdc.kadmin(f"cpw -randkey {stale}")  # the keytab's key is now outdated
    env = pg.conn_env(user="alice", host="localhost") | {"KRB5_CONFIG": str(alice.krb5_conf)}
    result = postgres_runner(
        ["check", "--conn", "pg", "--keytab", str(keytab), "--principal", stale], env=env
    )
    assert_fails(result, 3)


def test_connection_refused_exit_75(postgres_runner: Runner, pg: PgCluster) -> None:
    env = pg.conn_env(port=free_port())
    assert_fails(postgres_runner(["check", "--conn", "pg"], env=env, timeout=60), 75)
    result = postgres_runner(
        ["run", "--conn", "pg", "--retries", "2", "-c", "SELECT 1"], env=env, timeout=120
    )
    assert_fails(result, 75)


def test_server_not_running_on_unix_socket_exit_75(
    postgres_runner: Runner, pg: PgCluster, tmp_path: Path
) -> None:
    env = pg.conn_env(host=str(tmp_path))  # a socket folder with no server in it
    result = postgres_runner(["check", "--conn", "pg", "--retries", "0"], env=env, timeout=60)
    assert_fails(result, 75)


def test_connect_timeout_exit_75(postgres_runner: Runner, pg: PgCluster) -> None:
    silent = SilentListener()
    try:
        env = pg.conn_env(port=silent.port)
        result = postgres_runner(
            ["check", "--conn", "pg", "--connect-timeout", "2s", "--retries", "0"],
            env=env,
            timeout=60,
        )
    finally:
        silent.close()
    assert_fails(result, 75)
    assert 1.9 <= result.duration < 5, result  # one attempt of --connect-timeout 2s, no retry


def test_retries_until_the_server_appears(postgres_runner: Runner, pg: PgCluster) -> None:
    forwarder = TcpForwarder((pg.host, pg.port))
    timer = threading.Timer(1.5, forwarder.start)
    timer.start()
    try:
        env = pg.conn_env(port=forwarder.port)
        result = postgres_runner(["check", "--conn", "pg", "--retries", "6"], env=env, timeout=120)
    finally:
        timer.cancel()
        forwarder.stop()
    assert_ok(result)


def test_gssapi_postdated_ticket_exit_3_before_connecting(
    postgres_runner: Runner, pg: PgCluster, alice: KerberosUser, kdc: Kdc, tmp_path: Path
) -> None:
    """A postdated ticket (kinit -s) is not valid yet: the preflight refuses it (event
    "kerberos"), instead of a GSSAPI failure at the server."""
    ccache = f"FILE:{tmp_path / 'postdated'}"
    subprocess.run(
        ["kinit", "-s", "1h", "-l", "10h", "-c", ccache, alice.principal],
        input=alice.password + "\n",
        env=kdc.env(),
        check=True,
        capture_output=True,
        text=True,
    )
    env = pg.conn_env(user="alice", host="localhost") | {
        "KRB5CCNAME": ccache,
        "KRB5_CONFIG": str(alice.krb5_conf),
    }
    result = postgres_runner(["check", "--conn", "pg", "--retries", "0"], env=env)
    assert_fails(result, 3)
    assert result.errors[0]["event"] == "kerberos", result
