"""Proves the test harness itself (no tinyrun binary needed): the KDC, the PostgreSQL cluster's
password / TLS / GSSAPI paths, Airflow URI encoding, clean-env runs and docker runs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import psycopg2
import pytest
from harness import docker as hdocker
from harness.kdc import Kdc, KerberosUser
from harness.pgcluster import PASSWORD, QUOTE_PASSWORD, PgCluster
from harness.runner import run_runner

PSQL = "/usr/lib/postgresql/15/bin/psql"


def psql(conninfo: str, query: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Debian's psql with only ENV (plus PATH)."""
    return subprocess.run(
        [PSQL, "-X", "-A", "-t", "-c", query, conninfo],
        check=False,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_password_login(pg: PgCluster) -> None:
    conn = psycopg2.connect(
        host=pg.host,
        port=pg.port,
        user="tinyrun",
        password=PASSWORD,
        dbname="tinyrun",
        sslmode="disable",
        gssencmode="disable",
    )
    with conn, conn.cursor() as cur:
        cur.execute("SELECT current_user, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        assert cur.fetchone() == ("tinyrun", False)
    conn.close()


def test_quote_password_login(pg: PgCluster) -> None:
    conn = psycopg2.connect(
        host=pg.host,
        port=pg.port,
        user="tinyrun_quote",
        password=QUOTE_PASSWORD,
        dbname="tinyrun",
        gssencmode="disable",
    )
    conn.close()


def test_wrong_password_is_refused(pg: PgCluster) -> None:
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(
            host=pg.host,
            port=pg.port,
            user="tinyrun",
            password="wrong",
            dbname="tinyrun",
            gssencmode="disable",
        )


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_tls_verify_full(pg: PgCluster, host: str) -> None:
    conn = psycopg2.connect(
        host=host,
        port=pg.port,
        user="tinyrun_tls",
        password=PASSWORD,
        dbname="tinyrun",
        sslmode="verify-full",
        sslrootcert=str(pg.ca_file),
        gssencmode="disable",
    )
    with conn, conn.cursor() as cur:
        cur.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        assert cur.fetchone() == (True,)
    conn.close()


def test_tls_only_role_refuses_plain(pg: PgCluster) -> None:
    with pytest.raises(psycopg2.OperationalError, match="no pg_hba.conf entry"):
        psycopg2.connect(
            host=pg.host,
            port=pg.port,
            user="tinyrun_tls",
            password=PASSWORD,
            dbname="tinyrun",
            sslmode="disable",
            gssencmode="disable",
        )


def test_tls_wrong_ca_is_refused(pg: PgCluster, open_tmp: Path) -> None:
    from harness.tls import TestCA

    other = TestCA(open_tmp / "other-ca", name="not the server's CA")
    with pytest.raises(psycopg2.OperationalError, match="certificate verify failed"):
        psycopg2.connect(
            host=pg.host,
            port=pg.port,
            user="tinyrun_tls",
            password=PASSWORD,
            dbname="tinyrun",
            sslmode="verify-full",
            sslrootcert=str(other.cert),
            gssencmode="disable",
        )


def test_gssapi_with_ticket(pg: PgCluster, alice: KerberosUser) -> None:
    env = {"KRB5CCNAME": alice.ccache, "KRB5_CONFIG": str(alice.krb5_conf)}
    proc = psql(
        f"host=localhost port={pg.port} user=alice dbname=tinyrun gssencmode=require",
        "SELECT current_user, gss_authenticated, encrypted, principal "
        "FROM pg_stat_gssapi WHERE pid = pg_backend_pid()",
        env,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"alice|t|t|{alice.principal}"


def test_gssapi_auth_over_tls(pg: PgCluster, alice: KerberosUser) -> None:
    env = {"KRB5CCNAME": alice.ccache, "KRB5_CONFIG": str(alice.krb5_conf)}
    proc = psql(
        f"host=localhost port={pg.port} user=alice dbname=tinyrun gssencmode=disable "
        f"sslmode=verify-full sslrootcert={pg.ca_file}",
        "SELECT s.ssl, g.gss_authenticated, g.encrypted FROM pg_stat_ssl s "
        "JOIN pg_stat_gssapi g USING (pid) WHERE pid = pg_backend_pid()",
        env,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "t|t|f"


def test_gssapi_without_ticket_is_refused(pg: PgCluster, kdc: Kdc, open_tmp: Path) -> None:
    env = {"KRB5CCNAME": f"FILE:{open_tmp / 'none'}", "KRB5_CONFIG": str(kdc.krb5_conf)}
    proc = psql(f"host=localhost port={pg.port} user=alice dbname=tinyrun", "SELECT 1", env)
    assert proc.returncode != 0


def test_psycopg2_gssapi_in_subprocess(pg: PgCluster, alice: KerberosUser) -> None:
    import sys

    code = (
        "import psycopg2,sys;"
        f"c=psycopg2.connect(host='localhost',port={pg.port},user='alice',dbname='tinyrun',"
        "gssencmode='require');cur=c.cursor();cur.execute('select current_user');"
        "print(cur.fetchone()[0])"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        env={
            "PATH": "/usr/bin:/bin",
            "KRB5CCNAME": alice.ccache,
            "KRB5_CONFIG": str(alice.krb5_conf),
        },
        capture_output=True,
        text=True,
        timeout=30,
    )
    if "GSSAPI" in proc.stderr and "not supported" in proc.stderr:
        pytest.skip("this psycopg2 wheel's libpq lacks GSSAPI (psql covers it)")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "alice"


def test_keytab_and_short_renewable_tickets(kdc: Kdc, alice: KerberosUser, open_tmp: Path) -> None:
    cc = kdc.kinit(
        alice.principal, open_tmp / "cc", keytab=alice.keytab, lifetime="1m", renewable="5m"
    )
    listing = kdc.klist(cc)
    assert alice.principal in listing
    subprocess.run(
        ["kinit", "-R", "-c", cc], env=kdc.env(), check=True, capture_output=True, timeout=30
    )


def test_expired_ticket(kdc: Kdc, alice: KerberosUser, open_tmp: Path) -> None:
    cc = kdc.expired_ccache(alice.principal, open_tmp / "expired", alice.password)
    proc = subprocess.run(["klist", "-s", "-c", cc], env=kdc.env(), timeout=30, check=False)
    assert proc.returncode != 0


def test_airflow_uri_decodes_like_airflow(pg: PgCluster) -> None:
    uri = pg.airflow_uri(extra={"sslmode": "verify-full", "sslrootcert": "/x y/ca.crt"})
    parts = urlsplit(uri)
    assert parts.scheme == "postgres"
    assert unquote(parts.username or "") == "tinyrun"
    assert unquote(parts.password or "") == PASSWORD
    assert parts.hostname == pg.host and parts.port == pg.port
    assert unquote(parts.path[1:]) == "tinyrun"
    assert dict(parse_qsl(parts.query)) == {"sslmode": "verify-full", "sslrootcert": "/x y/ca.crt"}
    quoted = urlsplit(pg.airflow_uri(user="tinyrun_quote"))
    assert unquote(quoted.password or "") == QUOTE_PASSWORD


def test_superuser_sql_and_databases(pg: PgCluster, pg_db: str) -> None:
    pg.sql("CREATE TABLE t (x int)", dbname=pg_db)
    pg.sql("INSERT INTO t SELECT generate_series(1, 3)", dbname=pg_db)
    assert pg.sql("SELECT count(*) FROM t", dbname=pg_db) == [(3,)]
    assert pg.sql(
        "SELECT datdba::regrole::text FROM pg_database WHERE datname = %s",
        dbname="postgres",
        params=(pg_db,),
    ) == [("tinyrun",)]


def test_run_runner_clean_env_and_result(tmp_path: Path) -> None:
    script = (
        'env; echo \'{"level":"error","ts":"x","runner":"r","event":"e","msg":"m","fields":{}}\''
        ' >&2; echo \'{"status":"success"}\'; exit 3'
    )
    result = run_runner("sh", ["-c", script], env={"ONLY": "this"}, bin_dir=Path("/bin"))
    assert result.exit_code == 3
    assert result.result == {"status": "success"}
    env_lines = set(result.data_lines()) - {"PWD=" + str(Path.cwd()), "SHLVL=1", "_=/usr/bin/env"}
    assert env_lines == {"PATH=/usr/local/bin:/usr/bin:/bin", "ONLY=this"}
    assert len(result.errors) == 1 and not result.bad_log_lines


def test_peak_rss_is_the_child_own() -> None:
    small = run_runner("busybox", ["sleep", "0.3"], bin_dir=Path("/bin"))
    assert small.exit_code == 0 and small.max_rss_kb is not None
    assert small.max_rss_kb < 8 * 1024, "the test process's memory leaked into the measure"
    code = (
        "x = bytearray(48 << 20); x[::4096] = b'a' * len(x[::4096]); import time; time.sleep(0.3)"
    )
    big = run_runner("python3", ["-c", code], bin_dir=Path("/usr/bin"))
    assert big.exit_code == 0 and big.max_rss_kb is not None
    assert big.max_rss_kb > 48 * 1024


BUSYBOX_IMAGE = "tinyrun-test/busybox:harness"


@pytest.fixture(scope="module")
def busybox_image(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A FROM scratch image holding only a static busybox (built locally, nothing pulled)."""
    busybox = shutil.which("busybox")
    if not busybox or not hdocker.docker_available():
        pytest.skip("needs busybox-static and a docker engine")
    ctx = tmp_path_factory.mktemp("busybox")
    shutil.copy(busybox, ctx / "busybox")
    (ctx / "Dockerfile").write_text(
        'FROM scratch\nCOPY busybox /bin/busybox\nENTRYPOINT ["/bin/busybox"]\n'
    )
    subprocess.run(
        ["docker", "build", "-q", "-t", BUSYBOX_IMAGE, str(ctx)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return BUSYBOX_IMAGE


def test_docker_run_contract(busybox_image: str, open_tmp: Path) -> None:
    secret = "s3cr=t value"
    (open_tmp / "in.txt").write_text("mounted\n")
    out = open_tmp / "out"
    out.mkdir()
    out.chmod(0o777)
    container = hdocker.Container(
        busybox_image,
        [
            "sh",
            "-c",
            (
                'id -u; id -g; cat /in/in.txt; echo "$SECRET"; echo x > /out/f; '
                "touch /rootfile 2>/dev/null || echo read-only; cat; echo '{\"ok\":true}'"
            ),
        ],
        env={"SECRET": secret},
        mounts=[(open_tmp / "in.txt", "/in/in.txt"), (out, "/out", "rw")],
        stdin=b"from-stdin\n",
    )
    assert secret not in " ".join(container.process.argv)
    result = container.wait(timeout=60)
    assert result.exit_code == 0, result
    assert result.data_lines() == ["65532", "65532", "mounted", secret, "read-only", "from-stdin"]
    assert result.result == {"ok": True}
    assert (out / "f").read_text() == "x\n"


def test_docker_kill_sigterm(busybox_image: str, tmp_path: Path) -> None:
    import time

    # The shell says it is ready only after its trap is set: PID 1 ignores a SIGTERM that
    # arrives before it has a handler, so killing on "running" alone races the trap.
    ready = tmp_path / "ready"
    ready.mkdir(mode=0o777)
    ready.chmod(0o777)
    script = "trap 'exit 143' TERM; touch /ready/up; while true; do sleep 0.1; done"
    with hdocker.Container(
        busybox_image, ["sh", "-c", script], mounts=[(ready, "/ready", "rw")]
    ) as container:
        deadline = time.monotonic() + 30
        while not (ready / "up").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        container.kill("TERM")
        result = container.wait(timeout=30)
    assert result.exit_code == 143, result
