"""The postgres-runner image, run as Airflow's DockerOperator runs it (read-only root, uid
65532, host network, secrets through an env-file): password, TLS, Kerberos from a mounted
ticket cache or a keytab, the XCom file, stdin/stdout streaming, bad inputs and SIGTERM."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from harness.checks import assert_fails, assert_ok, assert_secret_absent, wait_until
from harness.docker import Container
from harness.kdc import KerberosUser
from harness.pgcluster import PASSWORD, PgCluster
from harness.result import RunResult

Docker = Callable[..., RunResult]
CCACHE = "/krb5/cache/krb5cc"  # the platform's shared ticket cache location (DESIGN.md)
KRB5_CONF = "/krb5/krb5.conf"


def test_version(docker_run: Docker, postgres_runner_image: str, repo_root: Path) -> None:
    result = docker_run(postgres_runner_image, ["--version"])
    assert result.exit_code == 0, result
    assert (repo_root / "VERSION").read_text().strip() in result.stdout
    assert "libpq" in result.stdout.lower()


def test_password_run_and_query(
    docker_run: Docker, postgres_runner_image: str, pg: PgCluster, pg_db: str
) -> None:
    env = pg.conn_env(dbname=pg_db) | {"TINYRUN_LOG_LEVEL": "debug"}
    sql = "CREATE TABLE t AS SELECT g AS x FROM generate_series(1, 10) g"
    result = docker_run(postgres_runner_image, ["run", "--conn", "pg", "-c", sql], env=env)
    assert_ok(result)
    assert_secret_absent(result, PASSWORD)
    assert pg.sql("SELECT sum(x) FROM t", dbname=pg_db) == [(55,)]
    result = docker_run(
        postgres_runner_image,
        ["query", "--conn", "pg", "--format", "csv", "SELECT x FROM t ORDER BY x"],
        env=env,
    )
    assert_ok(result)
    assert result.data_lines() == [str(i) for i in range(1, 11)]


def test_conn_file_mounted_secret(
    docker_run: Docker, postgres_runner_image: str, pg: PgCluster, open_tmp: Path
) -> None:
    secret = open_tmp / "conn"
    secret.write_text(pg.airflow_json())
    secret.chmod(0o644)  # a Kubernetes secret volume file readable by the pod's user
    result = docker_run(
        postgres_runner_image,
        ["check", "--conn-file", "/secrets/conn"],
        mounts=[(secret, "/secrets/conn")],
    )
    assert_ok(result)


def test_tls_verify_full(docker_run: Docker, postgres_runner_image: str, pg: PgCluster) -> None:
    env = pg.conn_env(user="tinyrun_tls", host="localhost", extra=pg.tls_extra("/certs/ca.crt"))
    result = docker_run(
        postgres_runner_image,
        ["check", "--conn", "pg"],
        env=env,
        mounts=[(pg.ca_file, "/certs/ca.crt")],
    )
    res = assert_ok(result)
    assert res["ssl"] is True, res


@pytest.mark.parametrize("explicit_ccname", [True, False], ids=["KRB5CCNAME", "platform-default"])
def test_gssapi_with_mounted_ticket_cache(
    docker_run: Docker,
    postgres_runner_image: str,
    pg: PgCluster,
    alice: KerberosUser,
    explicit_ccname: bool,
) -> None:
    env = pg.conn_env(user="alice", host="localhost") | {"KRB5_CONFIG": KRB5_CONF}
    if explicit_ccname:
        env["KRB5CCNAME"] = f"FILE:{CCACHE}"
    mounts = [(alice.ccache_path, CCACHE), (alice.krb5_conf, KRB5_CONF)]
    result = docker_run(postgres_runner_image, ["check", "--conn", "pg"], env=env, mounts=mounts)
    res = assert_ok(result)
    assert res["user"] == "alice" and res["gss"] is True, res


def test_gssapi_with_keytab_on_read_only_root(
    docker_run: Docker, postgres_runner_image: str, pg: PgCluster, alice: KerberosUser
) -> None:
    env = pg.conn_env(user="alice", host="localhost") | {"KRB5_CONFIG": KRB5_CONF}
    mounts = [(alice.keytab, "/krb5/alice.keytab"), (alice.krb5_conf, KRB5_CONF)]
    args = [
        "query",
        "--conn",
        "pg",
        "--keytab",
        "/krb5/alice.keytab",
        "--principal",
        alice.principal,
        "--format",
        "csv",
        "SELECT current_user",
    ]
    result = docker_run(postgres_runner_image, args, env=env, mounts=mounts)
    assert_ok(result)
    assert result.data_lines() == ["alice"]


def test_gssapi_expired_ticket_exit_3(
    docker_run: Docker,
    postgres_runner_image: str,
    pg: PgCluster,
    alice: KerberosUser,
    alice_expired_ccache: Path,
) -> None:
    env = pg.conn_env(user="alice", host="localhost") | {
        "KRB5_CONFIG": KRB5_CONF,
        "KRB5CCNAME": f"FILE:{CCACHE}",
    }
    mounts = [(alice_expired_ccache, CCACHE), (alice.krb5_conf, KRB5_CONF)]
    result = docker_run(
        postgres_runner_image, ["run", "--conn", "pg", "-c", "SELECT 1"], env=env, mounts=mounts
    )
    assert_fails(result, 3)


def test_xcom_return_json(
    docker_run: Docker, postgres_runner_image: str, pg: PgCluster, open_tmp: Path
) -> None:
    xcom = open_tmp / "xcom"
    xcom.mkdir()
    xcom.chmod(0o777)
    result = docker_run(
        postgres_runner_image,
        ["run", "--conn", "pg", "-c", "SELECT 1"],
        env=pg.conn_env(),
        mounts=[(xcom, "/airflow/xcom", "rw")],
    )
    res = assert_ok(result)
    assert json.loads((xcom / "return.json").read_text()) == res


def test_copy_in_from_stdin_and_out_to_stdout(
    docker_run: Docker, postgres_runner_image: str, pg: PgCluster, pg_db: str
) -> None:
    pg.sql("CREATE TABLE t (id int, name text)", dbname=pg_db, role="tinyrun")
    env = pg.conn_env(dbname=pg_db)
    data = "".join(f"{i},name {i}\n" for i in range(1, 1001)).encode()
    result = docker_run(
        postgres_runner_image,
        ["copy", "in", "--conn", "pg", "--format", "csv", "--table", "t"],
        env=env,
        stdin=data,
    )
    assert_ok(result)
    assert pg.sql("SELECT count(*), sum(id) FROM t", dbname=pg_db) == [(1000, 500500)]
    result = docker_run(
        postgres_runner_image,
        ["copy", "out", "--conn", "pg", "--format", "csv", "--table", "t"],
        env=env,
    )
    assert_ok(result)
    assert "\n".join(result.data_lines()).encode() + b"\n" == data


@pytest.mark.parametrize(
    "args,env_value,code",
    [
        (["--no-such-flag"], None, 2),
        (["run", "--conn", "pg", "-c", "SELECT 1"], "postgres://x@127.0.0.1:notaport/db", 2),
        (["run", "--conn", "missing", "-c", "SELECT 1"], None, 2),
        (["run", "--conn", "pg", "-c", "SELEC 1"], "", 1),
    ],
    ids=["unknown-flag", "malformed-uri", "missing-conn", "bad-sql"],
)
def test_bad_inputs(
    docker_run: Docker,
    postgres_runner_image: str,
    pg: PgCluster,
    args: list[str],
    env_value: str | None,
    code: int,
) -> None:
    env = pg.conn_env() if not env_value else {"AIRFLOW_CONN_PG": env_value}
    assert_fails(docker_run(postgres_runner_image, args, env=env), code)


def test_sigterm_as_pid_1(postgres_runner_image: str, pg: PgCluster) -> None:
    marker = f"img_{secrets.token_hex(4)}"
    sql = f"SELECT pg_sleep(60) AS {marker}"
    with Container(
        postgres_runner_image, ["run", "--conn", "pg", "-c", sql], env=pg.conn_env()
    ) as container:
        wait_until(
            lambda: pg.activity("state = 'active' AND query LIKE %s", (f"%{marker}%",)), timeout=30
        )
        sent = time.monotonic()
        container.kill("TERM")
        result = container.wait(timeout=30)
        took = time.monotonic() - sent
    assert result.exit_code == 143, result
    assert took < 5, f"took {took:.1f}s to stop after SIGTERM{result}"
    wait_until(lambda: not pg.activity("query LIKE %s", (f"%{marker}%",)), timeout=2)
