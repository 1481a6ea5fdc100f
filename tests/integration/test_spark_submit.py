"""spark-submit-runner on the host with pyspark's real spark-submit (Java 17) in local mode.

Kept lean: every Spark run starts a JVM, so each test is one small job in local[1] with the UI
off. Bad inputs never start a JVM. The JDBC test writes through Debian's pgJDBC into the harness
PostgreSQL and checks the rows there.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from harness.result import RunResult
from harness.runner import start_runner

RUNNER = "spark-submit-runner"
VENV_BIN = Path(sys.executable).parent
PG_JDBC_JAR = Path("/usr/share/java/postgresql.jar")
# Loopback only, no UI, one shuffle partition: the smallest Spark that still runs a real job.
LEAN_CONF = [
    "--conf", "spark.ui.enabled=false",
    "--conf", "spark.sql.shuffle.partitions=1",
    "--conf", "spark.driver.host=127.0.0.1",
    "--conf", "spark.driver.bindAddress=127.0.0.1",
]  # fmt: skip

JOB = """\
import json, os, sys, time
from pyspark.sql import SparkSession

mode = sys.argv[1]
if mode == "exit3":
    sys.exit(3)
spark = SparkSession.builder.getOrCreate()
if mode == "ok":
    rows = spark.range(5).filter("id % 2 = 0").count()
    with open(os.environ["TINYRUN_RESULT_FILE"], "w") as f:
        json.dump({"rows": rows, "application_id": spark.sparkContext.applicationId}, f)
elif mode == "raise":
    raise ValueError("the input is bad")
elif mode == "jdbc":
    conn = "TINYRUN_JDBC_WAREHOUSE_"
    df = spark.createDataFrame([(1, "alpha"), (2, "beta"), (3, "gamma")], "id INT, name STRING")
    (df.write.format("jdbc")
        .option("url", os.environ[conn + "URL"]).option("driver", os.environ[conn + "DRIVER"])
        .option("user", os.environ[conn + "USER"]).option("password", os.environ[conn + "PASSWORD"])
        .option("dbtable", "spark_rows").mode("overwrite").save())
elif mode == "sleep":
    open(sys.argv[2], "w").close()
    time.sleep(300)
spark.stop()
"""


@pytest.fixture(scope="module")
def spark_env() -> dict[str, str]:
    """The environment a Spark image gives: spark-submit and python3 on PATH, Java found by it."""
    if not (VENV_BIN / "spark-submit").exists():
        pytest.fail("pyspark's spark-submit is missing from build/venv: run `make venv`", pytrace=False)
    if not shutil.which("java"):
        pytest.fail("java is missing: install openjdk-17-jre-headless (tools/host-packages.txt)", pytrace=False)
    return {"PATH": f"{VENV_BIN}:/usr/bin:/bin", "SPARK_LOCAL_IP": "127.0.0.1", "HOME": "/tmp"}


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "job.py").write_text(JOB)
    return tmp_path


@pytest.fixture
def submit(
    run_runner: Callable[..., RunResult], spark_env: dict[str, str], work: Path
) -> Callable[..., RunResult]:
    def run(args: list[str], env: dict[str, str] | None = None, timeout: float = 300) -> RunResult:
        return run_runner(RUNNER, ["submit", *args], env={**spark_env, **(env or {})}, cwd=work, timeout=timeout)

    return run


def spec(work: Path, mode: str, **fields: Any) -> str:
    """A job spec file running job.py MODE, written next to it."""
    doc = {"application": str(work / "job.py"), "master": "local[1]", "args": [mode], **fields}
    path = work / f"{mode}.json"
    path.write_text(json.dumps(doc))
    return str(path)


def test_success_with_result_file(submit: Callable[..., RunResult], work: Path) -> None:
    res = submit([spec(work, "ok", name="tinyrun-ok"), *LEAN_CONF])
    assert res.exit_code == 0, res
    r = res.result
    assert r is not None, res
    assert (r["status"], r["final_state"], r["driver_exit_code"]) == ("success", "SUCCEEDED", 0)
    assert r["rows"] == 3  # from the job's TINYRUN_RESULT_FILE
    assert r["application_id"].startswith("local-")
    assert r["master"] == "local[1]" and r["deploy_mode"] == "client"
    assert r["duration_ms"] > 0


def test_raising_job_exits_1(submit: Callable[..., RunResult], work: Path) -> None:
    res = submit([spec(work, "raise"), *LEAN_CONF])
    assert res.exit_code == 1, res
    assert "ValueError: the input is bad" in res.stdout  # Spark sends the Python driver's stderr to stdout
    assert (res.result or {}).get("final_state") == "FAILED"
    assert (res.result or {}).get("driver_exit_code") == 1


def test_sys_exit_3_gives_3(submit: Callable[..., RunResult], work: Path) -> None:
    res = submit([spec(work, "exit3"), *LEAN_CONF])
    assert res.exit_code == 3, res
    assert (res.result or {}).get("driver_exit_code") == 3


def test_jdbc_rows_land_in_postgres(submit: Callable[..., RunResult], work: Path, pg: Any, pg_db: str) -> None:
    if not PG_JDBC_JAR.exists():
        pytest.fail(f"{PG_JDBC_JAR} is missing: install libpostgresql-jdbc-java", pytrace=False)
    conn = pg.conn_env("warehouse", dbname=pg_db, host="127.0.0.1")
    password = conn["AIRFLOW_CONN_WAREHOUSE"].split(":")[2].split("@")[0]
    res = submit([spec(work, "jdbc", jars=[str(PG_JDBC_JAR)], connections=["warehouse"]), *LEAN_CONF], env=conn)
    assert res.exit_code == 0, res
    assert pg.sql("SELECT id, name FROM spark_rows ORDER BY id", dbname=pg_db) == [
        (1, "alpha"),
        (2, "beta"),
        (3, "gamma"),
    ]
    assert password not in res.stderr and password not in res.stdout


def java_processes(marker: str) -> list[int]:
    """PIDs whose command line mentions marker (the job's unique folder)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline:
            pids.append(int(entry.name))
    return pids


def test_sigterm_mid_job_exits_143_and_leaves_no_java(spark_env: dict[str, str], work: Path) -> None:
    started = work / f"started-{secrets.token_hex(4)}"
    path = spec(work, "sleep")
    doc = json.loads(Path(path).read_text())
    doc["args"].append(str(started))
    Path(path).write_text(json.dumps(doc))
    proc = start_runner(RUNNER, ["submit", path, *LEAN_CONF], env=spark_env, cwd=work)
    try:
        deadline = time.monotonic() + 240
        while not started.exists() and time.monotonic() < deadline and not proc.poll():
            time.sleep(0.2)
        assert started.exists(), "the job never started"
        assert java_processes(str(work)), "no JVM ran the job"
        proc.send_signal(signal.SIGTERM)
        res = proc.wait(60)
    finally:
        for pid in java_processes(str(work)):
            os.kill(pid, signal.SIGKILL)
    assert res.exit_code == 143, res
    assert java_processes(str(work)) == []
    assert (res.result or {}).get("final_state") == "KILLED"


@pytest.fixture
def bad_env() -> dict[str, str]:
    return {"AIRFLOW_CONN_WEB": "http://example.com", "PATH": "/usr/bin:/bin"}


@pytest.mark.parametrize(
    ("case", "expect"),
    [
        ("not_json", "not valid JSON"),
        ("empty", "not valid JSON"),
        ("yaml", "only YAML's JSON form"),
        ("unknown_field", "unknown field 'mastr'"),
        ("missing_application", "does not exist"),
        ("missing_spec", "No such file"),
        ("unknown_conn_type", "supported: postgres, mssql"),
        ("missing_conn", "AIRFLOW_CONN_ABSENT"),
        ("secret_conf", "looks like a secret"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_2(
    run_runner: Callable[..., RunResult], work: Path, bad_env: dict[str, str], case: str, expect: str
) -> None:
    good = {"application": str(work / "job.py"), "master": "local[1]"}
    files = {
        "not_json": ("job.json", '{"application": '),
        "empty": ("job.json", ""),
        "yaml": ("job.yaml", "application: job.py\nmaster: local[1]\n"),
        "unknown_field": ("job.json", json.dumps({**good, "mastr": "x"})),
        "missing_application": ("job.json", json.dumps({**good, "application": str(work / "gone.py")})),
        "unknown_conn_type": ("job.json", json.dumps({**good, "connections": ["web"]})),
        "missing_conn": ("job.json", json.dumps({**good, "connections": ["absent"]})),
        "secret_conf": ("job.json", json.dumps({**good, "conf": {"spark.ssl.keyPassword": "x"}})),
    }
    name, text = files.get(case, ("nothing.json", None))
    if text is not None:
        (work / name).write_text(text)
    res = run_runner(RUNNER, ["submit", str(work / name)], env=bad_env, cwd=work)
    assert res.exit_code == 2, res
    assert len(res.errors) == 1, res
    assert expect in res.errors[0]["msg"], res
    assert (res.result or {}).get("status") == "usage_error", res
