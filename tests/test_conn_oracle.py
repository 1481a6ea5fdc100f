"""Our Airflow connection parser (common/conn.c) against Airflow's own.

build/test/asan/conn_dump (tests/unit/conn_dump.c, built by `make unit-tests`) parses a connection
text with conn_parse() and prints conn_to_json(c, 1), or an error and exit 2. Every input below is
also parsed by Airflow's two parsers, from the pinned venv:

- core: ``airflow.models.connection.Connection(uri=...)`` / ``Connection.from_json`` (the API
  server, the CLI and the UI);
- sdk: ``airflow.sdk.Connection.from_uri`` / ``from_json`` (the Task SDK, what a running task gets
  for an ``AIRFLOW_CONN_<ID>`` variable).

Each case says which result we must give:

- AIRFLOW: core and sdk agree, and we give the same fields (conn_type, host, login, password,
  schema, port, extra_dejson). In the JSON form a missing conn_type/host/schema is None in Airflow
  and "" for us (conn.h documents "" when absent), the only normalisation applied.
- SDK: core and sdk disagree (core JSON-decodes query values and drops an empty password); we
  follow the Task SDK, and the test asserts that core differs, so a change in Airflow shows up.
- REFUSE: a deliberate difference: we refuse what Airflow accepts (an extra that is not valid JSON
  or not an object; in the JSON form a fractional port, which Airflow truncates, or one outside
  0-65535, which Airflow keeps).
- ERROR: every parser refuses it.

Our error messages never contain the password.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import tempfile
import warnings
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
CONN_DUMP = (
    Path(os.environ.get("TINYRUN_UNIT_TEST_DIR", REPO_ROOT / "build" / "test"))
    / "asan"
    / "conn_dump"
)
FIELDS = ("conn_type", "host", "login", "password", "schema", "port", "extra")

AIRFLOW, SDK, REFUSE, ERROR = "airflow", "sdk", "refuse", "error"

CASES: list[tuple[str, str, str]] = [
    # (id, connection text, expectation)
    # Airflow's "Managing Connections" docs.
    (
        "docs-uri",
        "my-conn-type://my-login:my-password@my-host:5432/my-schema?param1=val1&param2=val2",
        AIRFLOW,
    ),
    (
        "docs-uri-placeholder-port",
        "my-conn-type://login:password@host:port/schema?param1=val1&param2=val2",
        ERROR,
    ),
    (
        "docs-extra-json",
        (
            "my-conn-type://@:1234?__extra__=%7B%22my_val%22%3A+%5B%22list%22%2C+%22of%22%2C+%22values%22%5D%2C+"
            "%22extra%22%3A+%7B%22nested%22%3A+%7B%22json%22%3A+%22val%22%7D%7D%7D"
        ),
        AIRFLOW,
    ),
    ("docs-fs-path-host", "fs://%2Fpath%2Fto%2Ffile", AIRFLOW),
    (
        "docs-json",
        (
            '{"conn_type": "my-conn-type", "login": "my-login", "password": "my-password", "host": "my-host", '
            '"port": 1234, "schema": "my-schema", "extra": {"param1": "val1", "param2": "val2"}}'
        ),
        AIRFLOW,
    ),
    (
        "docs-gcp-query",
        (
            "google-cloud-platform://?key_path=%2Fkeys%2Fkey.json&scope=https%3A%2F%2Fwww.googleapis.com%2Fauth%2F"
            "cloud-platform&project=airflow&num_retries=5"
        ),
        SDK,
    ),
    # Conn types and passwords.
    ("postgresql-alias", "postgresql://user:p%40ss@host/db", AIRFLOW),
    ("uppercase-scheme", "POSTGRESQL://u@h/d", AIRFLOW),
    (
        "encoded-password",
        "postgres://us%20er:a%2Fb%3Ac%40d%25e%3Ff%23g@host:5432/db",
        AIRFLOW,
    ),
    (
        "plus-in-userinfo-and-query",
        "postgres://us+er:pa+ss@host/my+db?opt=a+b&k%2Bx=c%2Bd",
        AIRFLOW,
    ),
    ("at-and-colon-in-password", "postgres://user:p@ss:w@host:1/db", AIRFLOW),
    ("bad-percent-escape", "postgres://u:100%25%zz%4@host/db", AIRFLOW),
    ("utf8-password", "postgres://u:%C3%A9t%C3%A9@host/db", AIRFLOW),
    ("empty-password", "postgres://:@host", SDK),
    # Hosts.
    ("host-with-protocol", "http://https://example.com:8443/api", AIRFLOW),
    ("host-with-protocol-case", "http://HTTPS://Example.COM", AIRFLOW),
    ("protocol-with-login", "http://user:pw@https://example.com", ERROR),
    ("three-schemes", "a://b://c://d", ERROR),
    ("socket-host", "postgres://%2Ftmp%2Fpg/db", AIRFLOW),
    (
        "socket-host-login-port",
        "postgres://u:p@%2Fvar%2Frun%2FPostgreSQL:5433/db",
        AIRFLOW,
    ),
    ("ipv6", "postgres://[::1]:5432/db", AIRFLOW),
    ("ipv6-zone", "postgres://user@[FE80::A%25ETH0]:5432/db", AIRFLOW),
    ("ipv6-unbalanced", "postgres://[::1/db", ERROR),
    ("ipv6-not-an-address", "postgres://[not-an-ip]:5432/db", ERROR),
    ("ipv4-in-brackets", "postgres://[127.0.0.1]/db", ERROR),
    ("uppercase-host", "postgres://User:PassWord@DB.Example.COM:5432/MyDB", AIRFLOW),
    # Ports and missing parts.
    ("port-not-a-number", "postgres://u:secretpw99@h:x/db", ERROR),
    ("port-out-of-range", "postgres://h:70000/db", ERROR),
    ("port-empty", "postgres://host:/db", AIRFLOW),
    ("port-zero", "postgres://h:0/db", AIRFLOW),
    ("nothing-but-type", "postgres://", AIRFLOW),
    ("login-only", "postgres://user@host", AIRFLOW),
    ("no-scheme", "//host/db", AIRFLOW),
    # Query and extra.
    (
        "query-typed-values",
        'postgres://h/db?connect_timeout=10&flag=true&n=null&l=[1,2]&o={"k":1}&z=007',
        SDK,
    ),
    ("query-repeated-blank", "postgres://h/db?a=x&a=y&flag&e=", AIRFLOW),
    ("query-fragment", "postgres://h/db?a=x#frag?b=2", AIRFLOW),
    (
        "extra-wins-over-params",
        "postgres://h/db?sslmode=disable&__extra__=%7B%22sslmode%22%3A%22require%22%7D",
        AIRFLOW,
    ),
    ("extra-empty", "postgres://h/db?__extra__=", AIRFLOW),
    (
        "extra-duplicate-keys",
        "postgres://h/db?__extra__=%7B%22a%22%3A1%2C%22a%22%3A2%7D",
        AIRFLOW,
    ),
    (
        "extra-not-json",
        "postgres://u:topsecret1@h/db?__extra__=sslmode%3Dverify-full",
        REFUSE,
    ),
    ("extra-not-object", "postgres://h/db?__extra__=%5B1%2C2%5D", REFUSE),
    ("extra-trailing-garbage", "postgres://h/db?__extra__=%7B%7D%20x", REFUSE),
    ("schema-decoded", "postgres://h/my%20db%2Fx/y", AIRFLOW),
    ("blanks-and-controls", "  postgres://ho\tst/d\nb\r\n", AIRFLOW),
    # JSON form.
    (
        "json-port-string",
        '{"conn_type": "postgresql", "host": "H", "port": "5432"}',
        AIRFLOW,
    ),
    ("json-port-zero", '{"conn_type": "postgres", "host": "h", "port": 0}', AIRFLOW),
    ("json-port-bad", '{"conn_type": "postgres", "port": "abc"}', ERROR),
    ("json-port-fraction", '{"conn_type": "postgres", "port": 5432.5}', REFUSE),
    ("json-port-out-of-range", '{"conn_type": "postgres", "port": 69966996}', REFUSE),
    ("json-port-negative", '{"conn_type": "postgres", "port": "-5"}', REFUSE),
    (
        "json-extra-string",
        '{"conn_type": "postgres", "extra": "{\\"sslmode\\": \\"verify-full\\"}"}',
        AIRFLOW,
    ),
    ("json-extra-empty-list", '{"conn_type": "postgres", "extra": []}', AIRFLOW),
    (
        "json-extra-not-json",
        '{"password": "pw-secret-9", "extra": "sslmode=require"}',
        REFUSE,
    ),
    ("json-extra-list", '{"extra": [1]}', REFUSE),
    ("json-unknown-key", '{"conn_type": "postgres", "hostname": "h"}', ERROR),
    (
        "json-duplicate-keys",
        '{"host": "HOST", "host": "Other", "extra": {"a": 1, "a": {"b": 1, "b": 2}}}',
        AIRFLOW,
    ),
    (
        "json-nulls-description",
        '{"conn_type": "postgres", "description": "d", "login": "u", "password": null}',
        AIRFLOW,
    ),
    ("json-empty", "{}", AIRFLOW),
    ("json-trailing-garbage", '{"host": "a"} x', ERROR),
]


def _airflow_home() -> None:
    if "AIRFLOW_HOME" not in os.environ:
        os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="tinyrun-airflow-home-")


@pytest.fixture(scope="module")
def airflow_parsers() -> dict[str, Any]:
    _airflow_home()
    warnings.simplefilter("ignore")
    try:
        from airflow.models.connection import Connection as CoreConnection
        from airflow.sdk import Connection as SdkConnection
    except ImportError as exc:  # pragma: no cover - the venv pins Airflow
        pytest.fail(
            f"Airflow is not importable ({exc}): run the tests from build/venv",
            pytrace=False,
        )
    logging.getLogger("airflow").setLevel(logging.CRITICAL)

    def core(text: str) -> Any:
        if text.lstrip().startswith("{"):
            return CoreConnection.from_json(text, conn_id="oracle")
        return CoreConnection(conn_id="oracle", uri=text)

    def sdk(text: str) -> Any:
        if text.lstrip().startswith("{"):
            return SdkConnection.from_json(text, conn_id="oracle")
        return SdkConnection.from_uri(text, conn_id="oracle")

    return {"core": core, "sdk": sdk}


def _airflow_fields(parse, text: str) -> dict[str, Any] | str:
    """The fields Airflow parses, or "error: ..." when it refuses the text."""
    try:
        c = parse(text)
        fields = {f: getattr(c, f) for f in FIELDS if f != "extra"}
        fields["extra"] = c.extra_dejson
    except Exception as exc:  # noqa: BLE001 - any refusal counts
        return f"error: {type(exc).__name__}: {exc}"
    if text.lstrip().startswith("{"):
        for f in ("conn_type", "host", "schema"):
            if fields[f] is None:
                fields[f] = ""
    return fields


def _ours(text: str) -> tuple[dict[str, Any] | str, str]:
    if not CONN_DUMP.exists():
        pytest.fail(f"{CONN_DUMP} is missing: run `make unit-tests`", pytrace=False)
    proc = subprocess.run(
        [CONN_DUMP], check=False, input=text.encode(), capture_output=True, timeout=30
    )
    stderr = proc.stderr.decode(errors="replace")
    if proc.returncode == 2:
        return "error: " + stderr.strip(), stderr
    assert proc.returncode == 0, f"conn_dump exited {proc.returncode}: {stderr}"
    return json.loads(proc.stdout), stderr


def _password_in(text: str) -> str | None:
    """The password of a URI's userinfo or a JSON "password", if long enough to search for."""
    if text.lstrip().startswith("{"):
        try:
            pw = json.loads(text).get("password")
        except ValueError:
            return None
    else:
        rest = text.split("://", 1)[-1]
        userinfo = rest.rpartition("@")[0]
        pw = userinfo.partition(":")[2] if ":" in userinfo else None
    return pw if pw and len(pw) >= 6 else None


@pytest.mark.parametrize(
    ("text", "expect"), [pytest.param(t, e, id=i) for i, t, e in CASES]
)
def test_conn_matches_airflow(
    airflow_parsers: dict[str, Any], text: str, expect: str
) -> None:
    core = _airflow_fields(airflow_parsers["core"], text)
    sdk = _airflow_fields(airflow_parsers["sdk"], text)
    ours, stderr = _ours(text)
    refused = isinstance(ours, str)

    if expect == AIRFLOW:
        assert core == sdk, (
            f"Airflow's parsers disagree; the case should be SDK:\ncore: {core}\nsdk:  {sdk}"
        )
        assert ours == core, f"\nours:    {ours}\nairflow: {core}"
    elif expect == SDK:
        assert ours == sdk, f"\nours: {ours}\nsdk:  {sdk}"
        assert core != sdk, (
            f"Airflow's core now agrees with the Task SDK ({core}): make the case AIRFLOW"
        )
    elif expect == REFUSE:
        assert refused, f"we accept what we should refuse: {ours}"
        assert not (isinstance(core, str) and isinstance(sdk, str)), (
            "Airflow refuses it too now: make the case ERROR"
        )
    else:
        assert refused, f"we accept what Airflow refuses ({core}): {ours}"
        assert isinstance(core, str) and isinstance(sdk, str), (
            f"Airflow accepts it:\ncore: {core}\nsdk:  {sdk}"
        )

    password = _password_in(text)
    if refused and password:
        assert password not in stderr, f"the error shows the password: {stderr}"
