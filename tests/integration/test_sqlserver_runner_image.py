"""The sqlserver-runner image, run as Airflow's DockerOperator runs it (read-only root, uid
65532, host network, secrets through an env-file) against the TDS test server: SQL login over
verified TLS, the image's own CA bundle and freetds.conf, Kerberos from a mounted cache, from a
keytab into a MEMORY: cache, and end to end from the compose ticket-sharer's
platform_kerberos_cache volume; the XCom file, bad inputs, SIGTERM as PID 1, the image size."""

from __future__ import annotations

import json
import secrets
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import test_ticket_sharer_compose as compose_stack
from harness.checks import assert_fails, assert_ok, assert_secret_absent, wait_until
from harness.docker import Container
from harness.kdc import Kdc, KerberosUser
from harness.pgcluster import PASSWORD, PgCluster
from harness.result import RunResult
from mssql import mssql_env
from tds.server import TdsServer

# the compose stack's fixtures (one ticket-sharer project per test, cleaned up afterwards)
host_dir, sharer_image, stack = (
    compose_stack.host_dir,
    compose_stack.sharer_image,
    compose_stack.stack,
)

Docker = Callable[..., RunResult]
CCACHE = "/krb5/cache/krb5cc"  # the platform's shared ticket cache location (DESIGN.md)
KRB5_CONF = "/krb5/krb5.conf"
CA = "/certs/ca.crt"
MAX_IMAGE_BYTES = 8 * 1024 * 1024


def tls_env(tds: TdsServer, db: str, **kwargs: object) -> dict[str, str]:
    """The connection, verified against the test CA mounted at CA."""
    return mssql_env(tds, db, **kwargs) | {"SSL_CERT_FILE": CA}


def kerberos_env(tds: TdsServer, db: str) -> dict[str, str]:
    env = mssql_env(
        tds, db, user=None, host="127.0.0.1", extra={"trust_server_certificate": "true"}
    )
    env.pop("SSL_CERT_FILE")
    return env | {"KRB5_CONFIG": KRB5_CONF}


def test_version_and_size(
    docker_run: Docker, sqlserver_runner_image: str, repo_root: Path
) -> None:
    result = docker_run(sqlserver_runner_image, ["--version"])
    assert result.exit_code == 0, result
    assert (repo_root / "VERSION").read_text().strip() in result.stdout
    assert "freetds" in result.stdout.lower()
    size = subprocess.run(
        ["docker", "image", "inspect", "-f", "{{.Size}}", sqlserver_runner_image],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert int(size) < MAX_IMAGE_BYTES, f"image is {int(size)} bytes"


def test_script_over_verified_tls_lands(
    docker_run: Docker,
    sqlserver_runner_image: str,
    tds: TdsServer,
    pg: PgCluster,
    pg_db: str,
    open_tmp: Path,
) -> None:
    script = open_tmp / "load.sql"
    script.write_text(
        "CREATE TABLE t (id int)\nGO\nINSERT INTO t VALUES ($(n))\nGO 2\n"
    )
    script.chmod(0o644)
    result = docker_run(
        sqlserver_runner_image,
        ["run", "--conn", "mssql", "-v", "n=7", "/sql/load.sql"],
        env=tls_env(tds, pg_db),
        mounts=[(tds.ca_file, CA), (script, "/sql/load.sql")],
    )
    out = assert_ok(result)
    assert_secret_absent(result, PASSWORD)
    assert out["committed"] is True
    assert pg.sql("SELECT id FROM t", dbname=pg_db) == [(7,), (7,)]


def test_the_image_ca_bundle_does_not_trust_the_test_ca(
    docker_run: Docker, sqlserver_runner_image: str, tds: TdsServer, pg_db: str
) -> None:
    env = mssql_env(tds, pg_db)
    env.pop("SSL_CERT_FILE")  # the image's own bundle: public CAs only
    assert_fails(
        docker_run(sqlserver_runner_image, ["check", "--conn", "mssql"], env=env), 2
    )
    env = mssql_env(tds, pg_db, extra={"trust_server_certificate": "true"})
    env.pop("SSL_CERT_FILE")
    out = assert_ok(
        docker_run(sqlserver_runner_image, ["check", "--conn", "mssql"], env=env)
    )
    assert out["encrypted"] is True and out["verify_server"] is False


@pytest.mark.parametrize(
    "explicit_ccname", [True, False], ids=["KRB5CCNAME", "platform-default"]
)
def test_kerberos_with_mounted_ticket_cache(
    docker_run: Docker,
    sqlserver_runner_image: str,
    tds: TdsServer,
    alice: KerberosUser,
    pg_db: str,
    explicit_ccname: bool,
) -> None:
    env = kerberos_env(tds, pg_db)
    if explicit_ccname:
        env["KRB5CCNAME"] = f"FILE:{CCACHE}"
    mounts = [(alice.ccache_path, CCACHE), (alice.krb5_conf, KRB5_CONF)]
    result = docker_run(
        sqlserver_runner_image, ["check", "--conn", "mssql"], env=env, mounts=mounts
    )
    out = assert_ok(result)
    assert out["login"] == "alice" and out["auth_scheme"] == "KERBEROS", out


def test_kerberos_with_keytab_on_read_only_root(
    docker_run: Docker,
    sqlserver_runner_image: str,
    tds: TdsServer,
    alice: KerberosUser,
    pg_db: str,
) -> None:
    mounts = [(alice.keytab, "/krb5/alice.keytab"), (alice.krb5_conf, KRB5_CONF)]
    args = [
        "check",
        "--conn",
        "mssql",
        "--keytab",
        "/krb5/alice.keytab",
        "--principal",
        alice.principal,
    ]
    result = docker_run(
        sqlserver_runner_image, args, env=kerberos_env(tds, pg_db), mounts=mounts
    )
    assert assert_ok(result)["auth_scheme"] == "KERBEROS"


def test_kerberos_expired_ticket_exits_3(
    docker_run: Docker,
    sqlserver_runner_image: str,
    tds: TdsServer,
    alice: KerberosUser,
    alice_expired_ccache: Path,
    pg_db: str,
) -> None:
    mounts = [(alice_expired_ccache, CCACHE), (alice.krb5_conf, KRB5_CONF)]
    args = ["run", "--conn", "mssql", "-c", "SELECT 1"]
    assert_fails(
        docker_run(
            sqlserver_runner_image, args, env=kerberos_env(tds, pg_db), mounts=mounts
        ),
        3,
    )


@pytest.mark.skipif(
    compose_stack.COMPOSE is None, reason="docker-compose is not installed"
)
def test_kerberos_end_to_end_from_the_compose_ticket_sharer(
    stack: compose_stack.Stack,
    host_dir: Path,
    kdc: Kdc,
    alice: KerberosUser,
    tds: TdsServer,
    pg: PgCluster,
    pg_db: str,
    docker_run: Docker,
    sqlserver_runner_image: str,
) -> None:
    compose_stack.kinit_as_host_user(kdc, alice, host_dir / "krb5cc")
    stack.compose("up", "-d")
    stack.wait_health("healthy")
    before = len(tds.kerberos.logins)
    pg.sql(
        "CREATE TABLE who (name text); GRANT INSERT ON who TO alice",
        dbname=pg_db,
        role="tinyrun",
    )
    sql = "INSERT INTO who SELECT SUSER_SNAME()"
    result = docker_run(
        sqlserver_runner_image,
        ["run", "--conn", "mssql", "-c", sql],  # no KRB5CCNAME: the platform default
        env=kerberos_env(tds, pg_db),
        mounts=[(kdc.krb5_conf, KRB5_CONF)],
        extra_flags=["-v", f"{stack.volume}:/krb5/cache:ro"],
    )
    assert_ok(result)
    assert tds.kerberos.logins[before:] == [alice.principal]
    assert pg.sql("SELECT name FROM who", dbname=pg_db) == [("alice",)]


def test_xcom_return_json(
    docker_run: Docker,
    sqlserver_runner_image: str,
    tds: TdsServer,
    pg_db: str,
    open_tmp: Path,
) -> None:
    xcom = open_tmp / "xcom"
    xcom.mkdir()
    xcom.chmod(0o777)
    result = docker_run(
        sqlserver_runner_image,
        ["run", "--conn", "mssql", "-c", "SELECT 1"],
        env=tls_env(tds, pg_db),
        mounts=[(xcom, "/airflow/xcom", "rw"), (tds.ca_file, CA)],
    )
    out = assert_ok(result)
    assert json.loads((xcom / "return.json").read_text()) == out


@pytest.mark.parametrize(
    "args,env_value,code",
    [
        (["run", "--conn", "mssql", "--nope", "-c", "SELECT 1"], None, 2),
        (["run", "--conn", "mssql", "-c", "SELECT 1"], "mssql://u:p@host:port/db", 2),
        (["run", "--conn", "other", "-c", "SELECT 1"], None, 2),
        (["run", "--conn", "mssql", "-c", "SELECT '$(undefined)'"], None, 2),
        (["run", "--conn", "mssql", "-c", "SELECT 1 / 0"], None, 1),
    ],
    ids=["unknown-flag", "malformed-uri", "missing-conn", "undefined-var", "sql-error"],
)
def test_bad_inputs(
    docker_run: Docker,
    sqlserver_runner_image: str,
    tds: TdsServer,
    args: list[str],
    env_value: str | None,
    code: int,
) -> None:
    env = (
        tls_env(tds, "tinyrun") if not env_value else {"AIRFLOW_CONN_MSSQL": env_value}
    )
    assert_fails(
        docker_run(sqlserver_runner_image, args, env=env, mounts=[(tds.ca_file, CA)]),
        code,
    )


def test_sigterm_as_pid_1(
    sqlserver_runner_image: str, tds: TdsServer, pg: PgCluster, pg_db: str
) -> None:
    marker = f"img{secrets.token_hex(4)}"
    env = tls_env(tds, pg_db) | {"TINYRUN_DAG_ID": marker}
    sql = "WAITFOR DELAY '00:01:00'"
    attentions = tds.attentions
    with Container(
        sqlserver_runner_image,
        ["run", "--conn", "mssql", "-c", sql],
        env=env,
        mounts=[(tds.ca_file, CA)],
    ) as container:
        wait_until(
            lambda: pg.activity(
                "state = 'active' AND application_name LIKE %s", (f"%{marker}%",)
            ),
            timeout=30,
        )
        sent = time.monotonic()
        container.kill("TERM")
        result = container.wait(timeout=30)
        took = time.monotonic() - sent
    assert result.exit_code == 143, result
    assert took < 5, f"took {took:.1f}s to stop after SIGTERM{result}"
    assert tds.attentions > attentions
    wait_until(
        lambda: not pg.activity("application_name LIKE %s", (f"%{marker}%",)), timeout=3
    )
