"""The TDS test server (tests/tds) checked by independent clients: FreeTDS's tsql,
python-tds and Microsoft's mssql-python (ODBC Driver 18). Each test asserts on what reached
PostgreSQL or on the values the client decoded."""

from __future__ import annotations

import datetime as dt
import io
import os
import socket
import subprocess
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import mssql_python
import pytds
import pytest
from harness.kdc import KerberosUser
from harness.pgcluster import PASSWORD, PgCluster
from mssql import pytds_connect
from tds.login import ENCRYPT_NOT_SUP, ENCRYPT_OFF, ENCRYPT_ON
from tds.server import TdsServer

# python-tds 1.17.1 calls pyOpenSSL APIs that are deprecated (not ours to fix)
pytestmark = pytest.mark.filterwarnings(
    "ignore:X509.get_subject is deprecated:DeprecationWarning"
)

ALL_TYPES = (
    "select cast(1 as int) i, cast(2 as bigint) b, cast(3 as smallint) s, cast(1 as bit) t,"
    " cast(12.345 as decimal(10,3)) d, cast(1.5 as float) f, N'héllo ☃' n,"
    " cast('abc' as varchar(10)) v, cast('2024-01-02 03:04:05.123456' as datetime2) dt2,"
    " cast('2024-01-02 03:04:05+00:00' as datetimeoffset) dto, cast('2024-01-02' as date) da,"
    " cast('03:04:05' as time) ti, cast('6F9619FF-8B86-D011-B42D-00C04FC964FF' as uniqueidentifier) u,"
    " cast(0x0102ff as varbinary(10)) vb, cast(-12.34 as money) m, cast(null as int) nul"
)
EXPECTED = [
    1,
    2,
    3,
    True,
    Decimal("12.345"),
    1.5,
    "héllo ☃",
    "abc",
    dt.datetime(2024, 1, 2, 3, 4, 5, 123456),
    dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
    dt.date(2024, 1, 2),
    dt.time(3, 4, 5),
    uuid.UUID("6F9619FF-8B86-D011-B42D-00C04FC964FF"),
    b"\x01\x02\xff",
    Decimal("-12.34"),
    None,
]


def odbc_connect(
    tds: TdsServer, db: str, password: str = PASSWORD, **extra: str
) -> Any:
    options = {"Encrypt": "yes", "TrustServerCertificate": "yes", **extra}
    text = f"Server=127.0.0.1,{tds.port};Database={db};UID=tinyrun;PWD={{{password}}};"
    return mssql_python.connect(text + "".join(f"{k}={v};" for k, v in options.items()))


def tsql(
    tds: TdsServer,
    folder: Path,
    db: str,
    script: str,
    encryption: str,
    login: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    conf = folder / "freetds.conf"
    conf.write_text(
        f"[tds]\n\thost = 127.0.0.1\n\tport = {tds.port}\n\ttds version = 7.4\n"
        f"\tencryption = {encryption}\n\tca file = {tds.ca_file}\n"
    )
    env = {**os.environ, "FREETDSCONF": str(conf), "TDSDUMP": "", **(env or {})}
    login = ["-U", "tinyrun", "-P", PASSWORD] if login is None else login
    return subprocess.run(
        ["tsql", "-S", "tds", *login, "-D", db],
        check=False,
        input=script,
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )


# -- FreeTDS tsql ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encryption", "negotiated"),
    [("off", ENCRYPT_NOT_SUP), ("request", ENCRYPT_OFF), ("require", ENCRYPT_ON)],
)
def test_tsql_batches_land_in_postgres(
    tds: TdsServer,
    pg: PgCluster,
    pg_db: str,
    open_tmp: Path,
    encryption: str,
    negotiated: int,
) -> None:
    script = (
        "create table t (id int primary key, name nvarchar(20))\n"
        "insert into t values (1, N'één'), (2, N'two')\n"
        "print 'inserted'\ngo\n"
        "select id, name from t order by id\ngo\n"
        "select * from nosuch\ngo\n"
    )
    proc = tsql(tds, open_tmp, pg_db, script, encryption)
    assert tds.last_encryption == negotiated
    assert pg.sql("select id, name from t order by id", dbname=pg_db) == [
        (1, "één"),
        (2, "two"),
    ]
    assert "1\téén\n2\ttwo" in proc.stdout
    assert "inserted" in proc.stderr + proc.stdout
    assert "Msg 208 (severity 16" in proc.stderr + proc.stdout


def test_tsql_wrong_password_fails(tds: TdsServer, open_tmp: Path, pg_db: str) -> None:
    conf_proc = tsql(tds, open_tmp, pg_db, "select 1\ngo\n", "off")
    assert conf_proc.returncode == 0
    proc = subprocess.run(
        [
            "tsql",
            "-H",
            "127.0.0.1",
            "-p",
            str(tds.port),
            "-U",
            "tinyrun",
            "-P",
            "wrong",
        ],
        check=False,
        input="select 1\ngo\n",
        capture_output=True,
        text=True,
        env={**os.environ, "TDSVER": "7.4"},
        timeout=30,
    )
    assert proc.returncode != 0
    assert "18456" in proc.stderr + proc.stdout


@pytest.mark.parametrize("encryption", ["off", "require"])
def test_tsql_kerberos_login_with_empty_user(
    tds: TdsServer, alice: KerberosUser, pg_db: str, open_tmp: Path, encryption: str
) -> None:
    env = {"KRB5_CONFIG": str(alice.krb5_conf), "KRB5CCNAME": alice.ccache}
    proc = tsql(
        tds, open_tmp, pg_db, "select current_user as who\ngo\n", encryption, [], env
    )
    assert tds.kerberos.logins[-1] == alice.principal
    assert "\nalice\n" in proc.stdout, proc.stdout + proc.stderr


def test_tsql_kerberos_without_ticket_fails(
    tds: TdsServer, alice: KerberosUser, pg_db: str, open_tmp: Path
) -> None:
    env = {"KRB5_CONFIG": str(alice.krb5_conf), "KRB5CCNAME": f"FILE:{open_tmp}/none"}
    before = len(tds.kerberos.logins)
    proc = tsql(tds, open_tmp, pg_db, "select current_user\ngo\n", "off", [], env)
    assert proc.returncode != 0
    assert len(tds.kerberos.logins) == before


# -- python-tds --------------------------------------------------------------------------------


def test_pytds_types_over_tls(tds: TdsServer, pg: PgCluster, pg_db: str) -> None:
    with pytds_connect(tds, pg, pg_db) as conn, conn.cursor() as cur:
        cur.execute(ALL_TYPES)
        row = list(cur.fetchone())
        names = [d[0] for d in cur.description]
    assert tds.last_encryption == ENCRYPT_ON
    assert names[:3] == ["i", "b", "s"]
    assert row[9].utcoffset() == dt.timedelta(0)
    row[9] = row[9].replace(tzinfo=dt.UTC)
    assert row == EXPECTED


def test_pytds_parameters_transactions_and_errors(
    tds: TdsServer, pg: PgCluster, pg_db: str
) -> None:
    pg.sql(
        "create table p (id int, label text, amount numeric(10,2))",
        dbname=pg_db,
        role="tinyrun",
    )
    with pytds_connect(tds, pg, pg_db, autocommit=False) as conn:
        with conn.cursor() as cur:
            cur.execute(
                "insert into p values (%s, %s, %s)", (1, "kept", Decimal("1.25"))
            )
        conn.commit()
        with conn.cursor() as cur:
            cur.execute(
                "insert into p values (%s, %s, %s)", (2, "dropped", Decimal("2.50"))
            )
            cur.execute("select count(*) from p")
            assert cur.fetchone()[0] == 2
        conn.rollback()
        with conn.cursor() as cur:
            with pytest.raises(pytds.ProgrammingError) as info:
                cur.execute("select * from nosuch")
            assert info.value.number == 208
            cur.execute("select @@ROWCOUNT, SUSER_NAME(), DB_NAME()")
            assert cur.fetchone()[1:] == ("tinyrun", pg_db)
    assert pg.sql("select id, label, amount from p", dbname=pg_db) == [
        (1, "kept", Decimal("1.25"))
    ]


def test_pytds_attention_cancels_the_postgres_query(
    tds: TdsServer, pg: PgCluster, pg_db: str
) -> None:
    before = tds.attentions
    with pytds_connect(tds, pg, pg_db, timeout=1) as conn:
        started = time.monotonic()
        with conn.cursor() as cur, pytest.raises(TimeoutError):
            cur.execute("WAITFOR DELAY '00:00:30'")
        assert time.monotonic() - started < 5
        # python-tds sends ATTENTION on its timeout and reads the acknowledgement later
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (
            tds.attentions == before
            or pg.activity("query like '%pg_sleep%' and state = 'active'")
        ):
            time.sleep(0.05)
        assert tds.attentions > before
        assert pg.activity("query like '%pg_sleep%' and state = 'active'") == []
        assert time.monotonic() - started < 5
        with conn.cursor() as cur:
            cur.execute("select 42")
            assert cur.fetchone()[0] == 42


# -- Microsoft's ODBC driver (mssql-python) ----------------------------------------------------


def test_mssql_python_types_parameters_and_transactions(
    tds: TdsServer, pg: PgCluster, pg_db: str
) -> None:
    pg.sql("create table m (id int, label text)", dbname=pg_db, role="tinyrun")
    conn = odbc_connect(tds, pg_db)
    try:
        cur = conn.cursor()
        cur.execute(ALL_TYPES)
        row = list(cur.fetchone())
        assert row == EXPECTED
        calls = len(tds.rpc_calls)
        cur.execute("insert into m values (?, ?)", (1, "committed"))
        assert tds.rpc_calls[calls:] == ["sp_prepexec"]
        conn.commit()
        cur.execute("insert into m values (?, ?)", (2, "rolled back"))
        conn.rollback()
        cur.execute("select label from m where id = ?", (1,))
        assert cur.fetchone()[0] == "committed"
        with pytest.raises(mssql_python.Error, match="Invalid object name"):
            cur.execute("select * from nosuch")
    finally:
        conn.close()
    assert pg.sql("select id, label from m", dbname=pg_db) == [(1, "committed")]


def test_mssql_python_wrong_password(tds: TdsServer, pg_db: str) -> None:
    with pytest.raises(mssql_python.Error, match="18456|Login failed"):
        odbc_connect(tds, pg_db, password="wrong")


# -- bulk load ---------------------------------------------------------------------------------

BULK_TABLE = "create table b (id int, name text, amount numeric(10,2), ts timestamp, flag boolean)"


def test_freebcp_in_lands_with_copy(
    tds: TdsServer, pg: PgCluster, pg_db: str, open_tmp: Path
) -> None:
    pg.sql(BULK_TABLE, dbname=pg_db, role="tinyrun")
    data = open_tmp / "b.tsv"
    lines = [
        f"{i}\tname {i}\t{i}.25\t2024-01-02 03:04:05\t{i % 2}" for i in range(1, 1001)
    ]
    data.write_text("\n".join([*lines, "1001\t\t\t\t0"]) + "\n")
    proc = subprocess.run(
        [
            "freebcp",
            "b",
            "in",
            str(data),
            "-S",
            f"127.0.0.1:{tds.port}",
            "-U",
            "tinyrun",
        ]
        + ["-P", PASSWORD, "-D", pg_db, "-c", "-b", "400"],
        capture_output=True,
        text=True,
        env={**os.environ, "TDSVER": "7.4"},
        timeout=30,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1001 rows copied" in proc.stdout
    summary = pg.sql(
        "select count(*), sum(id), sum(amount), count(name), bool_and(ts = '2024-01-02 03:04:05')"
        ", count(*) filter (where flag) from b",
        dbname=pg_db,
    )
    assert summary == [(1001, 501501, Decimal("500750.00"), 1000, True, 500)]


def test_pytds_copy_to_lands_with_copy(
    tds: TdsServer, pg: PgCluster, pg_db: str
) -> None:
    pg.sql(BULK_TABLE, dbname=pg_db, role="tinyrun")
    text = "".join(f"{i}\tné {i}\t{i}.50\n" for i in range(500))
    with pytds_connect(tds, pg, pg_db) as conn, conn.cursor() as cur:
        cur.copy_to(io.StringIO(text), "b", columns=["id", "name", "amount"])
    rows = pg.sql(
        "select count(*), sum(id), sum(amount), min(name) from b", dbname=pg_db
    )
    assert rows == [(500, 124750, Decimal("125000.00"), "né 0")]


def test_unsupported_statement_names_the_feature(
    tds: TdsServer, pg: PgCluster, pg_db: str
) -> None:
    with (
        pytds_connect(tds, pg, pg_db) as conn,
        conn.cursor() as cur,
        pytest.raises(pytds.OperationalError, match="does not support DECLARE"),
    ):
        cur.execute("declare @x int")


def test_mssql_python_kerberos_trusted_connection(
    tds: TdsServer, alice: KerberosUser, pg_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KRB5_CONFIG", str(alice.krb5_conf))
    monkeypatch.setenv("KRB5CCNAME", alice.ccache)
    text = (
        f"Server=127.0.0.1,{tds.port};Database={pg_db};Trusted_Connection=yes;"
        f"ServerSPN=MSSQLSvc/localhost:{tds.port};Encrypt=yes;TrustServerCertificate=yes;"
    )
    conn = mssql_python.connect(text)
    try:
        cur = conn.cursor()
        cur.execute("select current_user")
        assert cur.fetchone()[0] == "alice"
    finally:
        conn.close()
    assert tds.kerberos.logins[-1] == alice.principal


def test_mssql_python_login_only_encryption(tds: TdsServer, pg_db: str) -> None:
    conn = odbc_connect(tds, pg_db, Encrypt="no")
    try:
        cur = conn.cursor()
        cur.execute("select DB_NAME(), SUSER_NAME()")
        assert tuple(cur.fetchone()) == (pg_db, "tinyrun")
    finally:
        conn.close()
    assert tds.last_encryption == ENCRYPT_OFF


# -- errors, messages and transactions ---------------------------------------------------------


def test_failing_batch_in_a_transaction_leaves_nothing(
    tds: TdsServer, pg: PgCluster, pg_db: str, open_tmp: Path
) -> None:
    pg.sql("create table x (id int)", dbname=pg_db, role="tinyrun")
    script = (
        "set xact_abort on\nbegin tran\ninsert into x values (1)\n"
        "select 1/0\ninsert into x values (2)\ncommit\ngo\n"
        "insert into x values (3)\ngo\n"
    )
    proc = tsql(tds, open_tmp, pg_db, script, "off")
    assert "Msg 8134 (severity 16" in proc.stdout + proc.stderr
    assert pg.sql("select id from x", dbname=pg_db) == [(3,)]


def test_pytds_raiserror_throw_and_print(
    tds: TdsServer, pg: PgCluster, pg_db: str
) -> None:
    with pytds_connect(tds, pg, pg_db) as conn, conn.cursor() as cur:
        cur.execute("print 'note'\nraiserror('just a warning', 10, 1)\nselect 7")
        assert cur.fetchone() == (7,)
        texts = [str(message[1]) for message in cur.messages]
        assert any("note" in t for t in texts) and any(
            "just a warning" in t for t in texts
        )
        with pytest.raises(pytds.OperationalError) as info:
            cur.execute("throw 51000, 'custom failure', 1\nselect 8")
        assert (info.value.number, info.value.severity) == (51000, 16)
        with pytest.raises(pytds.OperationalError) as info:
            cur.execute("commit")
        assert info.value.number == 3902


def test_malformed_and_truncated_input_leave_the_server_serving(
    tds: TdsServer, pg: PgCluster, pg_db: str
) -> None:
    garbage = [
        b"",  # connect and close
        b"\x12\x01\x00\x04\x00\x00\x00\x00",  # a header shorter than itself
        b"\x12\x01\x00\x40\x00\x00\x00\x00" + b"\xff" * 8,  # truncated PRELOGIN
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        bytes(range(256)) * 4,
    ]
    for data in garbage:
        with socket.create_connection(("127.0.0.1", tds.port), timeout=5) as sock:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
            sock.settimeout(5)
            while sock.recv(4096):
                pass
    with pytds_connect(tds, pg, pg_db) as conn, conn.cursor() as cur:
        cur.execute("select 1")
        assert cur.fetchone() == (1,)
