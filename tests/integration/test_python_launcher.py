"""python-launcher against a real HTTPS server on loopback (test CA), on the host.

Snapshots come from harness.snapshots; the server is harness.https. Every bad snapshot must
exit 2 with nothing written outside the cache and nothing cached; download failures map to
2 (404), 3 (401/403) and 75 (retries exhausted). Signals, reaping and exit codes are checked with
real processes; the same behaviour inside a container is in test_python_launcher_image.py.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.https import HttpsServer, Reply
from harness.result import RunResult
from harness.runner import run_runner, start_runner
from harness.snapshots import EVIL_KINDS, MAIN_PY, evil, make_snapshot, sha256
from harness.tls import TestCA

GOOD = make_snapshot({"main.py": MAIN_PY, "pkg/helper.py": "X = 1\n"})
GOOD_SHA = sha256(GOOD)


@pytest.fixture(scope="module")
def ca(session_tmp: Path) -> TestCA:
    return TestCA(session_tmp / "launcher-ca")


@pytest.fixture(scope="module")
def server(ca: TestCA) -> Iterator[HttpsServer]:
    srv = HttpsServer(ca.issue_server("launcher-https", ["127.0.0.1", "localhost"]))
    yield srv
    srv.close()


@pytest.fixture
def work(open_tmp: Path) -> Path:
    """The launcher's workdir; the cache is work/cache, and work/victim must never change."""
    (open_tmp / "victim").write_text("untouched")
    return open_tmp


def launch(
    work: Path,
    ca: TestCA,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> RunResult:
    tls = ["--cacert", str(ca.cert)] if args[0] != "gc" else []
    return run_runner(
        "python-launcher",
        [
            "--workdir",
            str(work),
            args[0],
            "--cache",
            str(work / "cache"),
            *tls,
            *args[1:],
        ],
        env=env,
        timeout=timeout,
    )


def cache_entries(work: Path) -> list[str]:
    cache = work / "cache"
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


def assert_nothing_escaped(work: Path) -> None:
    assert (work / "victim").read_text() == "untouched"
    allowed = {"victim", "cache"}
    stray = [
        p.name
        for p in work.iterdir()
        if p.name not in allowed and not p.name.startswith("tinyrun-result-")
    ]
    assert stray == [], f"files appeared next to the cache: {stray}"
    assert not Path("/pwned.py").exists()


def result(res: RunResult) -> dict[str, Any]:
    assert res.result is not None, res.describe()
    return res.result


# -- the good path --------------------------------------------------------------------------


def test_https_snapshot_runs_and_result_merges(
    work: Path, ca: TestCA, server: HttpsServer
) -> None:
    url = server.route("/good.tar.gz", Reply(200, GOOD))
    env = {
        "AIRFLOW_CONN_WH": "postgres://u:p@h/db",
        "TINYRUN_DAG_ID": "dag1",
        "TINYRUN_TOKEN": "launcher-only",
    }
    res = launch(
        work, ca, "run", "--code", url, "--code-sha256", GOOD_SHA, "main.py", env=env
    )
    assert res.exit_code == 0, res.describe()
    out = res.stdout.splitlines()
    assert out[0] == f"program says hello from {GOOD_SHA}", res.describe()
    r = result(res)
    assert (
        r["rows"] == 42
        and r["argv"] == []
        and r["status"] == "success"
        and r["exit_code"] == 0
    )
    assert r["conn"] == "postgres://u:p@h/db" and r["dag"] == "dag1"
    assert (
        r["secret"] is None
    )  # the launcher's own TINYRUN_* settings stay with the launcher
    assert (
        r["code_sha256"] == GOOD_SHA
        and r["cache_hit"] is False
        and r["bytes_fetched"] == len(GOOD)
    )
    assert cache_entries(work) == [GOOD_SHA]
    assert server.hits["/good.tar.gz"] == 1

    again = launch(
        work, ca, "run", "--code", url, "--code-sha256", GOOD_SHA, "main.py", "1"
    )
    assert again.exit_code == 1, again.describe()
    assert result(again)["cache_hit"] is True and "bytes_fetched" not in result(again)
    assert server.hits["/good.tar.gz"] == 1  # a cache hit downloads nothing


@pytest.mark.parametrize("code", [0, 1, 99, 7])
def test_exit_codes_pass_through(work: Path, ca: TestCA, code: int) -> None:
    snap = work / "snap.tar"
    snap.write_bytes(make_snapshot({"main.py": MAIN_PY}, gz=False))
    res = launch(work, ca, "run", "--code", f"file://{snap}", "main.py", str(code))
    assert res.exit_code == code, res.describe()
    assert result(res)["exit_code"] == code and result(res)["program_exit_code"] == code
    if code == 99:
        assert result(res)["status"] == "skipped"


def test_connection_given_as_a_file_reaches_the_program_as_a_variable(
    work: Path, ca: TestCA
) -> None:
    # The DAG factory hands connections to Docker tasks as AIRFLOW_CONN_<ID>_FILE; user code
    # reads AIRFLOW_CONN_<ID>, as on Kubernetes.
    prog = (
        "import os\n"
        "print(os.environ.get('AIRFLOW_CONN_WH', 'missing'))\n"
        "print(os.environ.get('AIRFLOW_CONN_KEEP', 'missing'))\n"
    )
    snap = work / "conn.tar"
    snap.write_bytes(make_snapshot({"main.py": prog}, gz=False))
    secret_file = work / "wh.conn"
    secret_file.write_text("postgres://u:s3cret@h/db\n")
    env = {
        "AIRFLOW_CONN_WH_FILE": str(secret_file),
        "AIRFLOW_CONN_KEEP": "postgres://k@h/db",
        "AIRFLOW_CONN_KEEP_FILE": str(secret_file),
    }
    res = launch(work, ca, "run", "--code", f"file://{snap}", "main.py", env=env)
    assert res.exit_code == 0, res.describe()
    assert res.stdout.splitlines()[:2] == ["postgres://u:s3cret@h/db", "postgres://k@h/db"]
    assert "s3cret" not in res.stderr

    secret_file.write_text("")
    bad = launch(work, ca, "run", "--code", f"file://{snap}", "main.py", env=env)
    assert bad.exit_code == 2, bad.describe()
    assert "postgres://" not in bad.stdout.split("\n")[0]  # the program never ran


def test_fetch_then_run_from_the_folder(
    work: Path, ca: TestCA, server: HttpsServer
) -> None:
    url = server.route("/fetch.tar.gz", Reply(200, GOOD))
    res = launch(work, ca, "fetch", "--code", url, "--code-sha256", GOOD_SHA)
    assert res.exit_code == 0, res.describe()
    folder = result(res)["snapshot_dir"]
    assert (
        folder == str(work / "cache" / GOOD_SHA)
        and (Path(folder) / "pkg" / "helper.py").exists()
    )
    run = launch(work, ca, "run", "--code", f"file://{folder}", "main.py", "3")
    assert run.exit_code == 3, run.describe()
    assert server.hits["/fetch.tar.gz"] == 1


def test_invalid_result_file_fails_the_task(work: Path, ca: TestCA) -> None:
    snap = work / "bad-result.tar.gz"
    prog = "import os\nopen(os.environ['TINYRUN_RESULT_FILE'], 'w').write('[1, 2')\n"
    snap.write_bytes(make_snapshot({"main.py": prog}))
    res = launch(work, ca, "run", "--code", f"file://{snap}", "main.py")
    assert res.exit_code == 1, res.describe()
    assert "not a JSON object" in result(res)["error"]


def test_gc_keeps_the_most_recently_used(work: Path, ca: TestCA) -> None:
    shas = []
    for i in range(3):
        snap = work / f"v{i}.tar.gz"
        data = make_snapshot({"main.py": MAIN_PY + f"# version {i}\n"})
        snap.write_bytes(data)
        shas.append(sha256(data))
        assert (
            launch(work, ca, "run", "--code", f"file://{snap}", "main.py").exit_code
            == 0
        )
        time.sleep(0.05)
    # v0 is used again: v1 is now the least recently used
    assert (
        launch(
            work, ca, "run", "--code", f"file://{work / 'v0.tar.gz'}", "main.py"
        ).exit_code
        == 0
    )
    res = launch(work, ca, "gc", "--keep", "2")
    assert res.exit_code == 0, res.describe()
    assert result(res)["removed"] == 1
    assert cache_entries(work) == sorted([shas[0], shas[2]])


def test_concurrent_unpacks_of_one_digest_both_succeed(work: Path, ca: TestCA) -> None:
    files = {f"data/f{i}.txt": os.urandom(20000).hex() for i in range(150)}
    files["main.py"] = MAIN_PY
    snap = work / "big.tar.gz"
    snap.write_bytes(make_snapshot(files))
    args = [
        "--workdir",
        str(work),
        "run",
        "--cache",
        str(work / "cache"),
        "--code",
        f"file://{snap}",
        "main.py",
    ]
    procs = [start_runner("python-launcher", args) for _ in range(3)]
    results = [p.wait(60) for p in procs]
    assert [r.exit_code for r in results] == [0, 0, 0], [r.describe() for r in results]
    assert cache_entries(work) == [
        sha256(snap.read_bytes())
    ]  # no temporary folder left


# -- refusals before any download ---------------------------------------------------------


def test_remote_code_needs_a_digest_and_https(
    work: Path, ca: TestCA, server: HttpsServer
) -> None:
    url = server.route("/nodigest.tar.gz", Reply(200, GOOD))
    res = launch(work, ca, "run", "--code", url, "main.py")
    assert res.exit_code == 2 and "--code-sha256 is required" in result(res)["error"]
    plain = url.replace("https://", "http://")
    res = launch(work, ca, "run", "--code", plain, "--code-sha256", GOOD_SHA, "main.py")
    assert res.exit_code == 2 and "http:// is refused" in result(res)["error"]
    assert server.hits["/nodigest.tar.gz"] == 0
    assert cache_entries(work) == []


def test_digest_mismatch_caches_nothing(
    work: Path, ca: TestCA, server: HttpsServer
) -> None:
    url = server.route("/mismatch.tar.gz", Reply(200, GOOD))
    wrong = "0" * 64
    res = launch(work, ca, "run", "--code", url, "--code-sha256", wrong, "main.py")
    assert res.exit_code == 2, res.describe()
    assert GOOD_SHA in result(res)["error"] and wrong in result(res)["error"]
    assert cache_entries(work) == []
    assert_nothing_escaped(work)


# -- HTTP outcomes --------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "code"), [(404, 2), (410, 2), (401, 3), (403, 3)])
def test_http_errors_are_classified(
    work: Path, ca: TestCA, server: HttpsServer, status: int, code: int
) -> None:
    url = server.route(f"/status-{status}", Reply(status, b"no"))
    res = launch(work, ca, "run", "--code", url, "--code-sha256", GOOD_SHA, "main.py")
    assert res.exit_code == code, res.describe()
    assert server.hits[f"/status-{status}"] == 1  # permanent: not retried
    assert cache_entries(work) == []


def test_503_then_success_is_retried(
    work: Path, ca: TestCA, server: HttpsServer
) -> None:
    url = server.route(
        "/flaky.tar.gz", Reply(503, b"busy"), Reply(429, b"slow down"), Reply(200, GOOD)
    )
    res = launch(work, ca, "run", "--code", url, "--code-sha256", GOOD_SHA, "main.py")
    assert res.exit_code == 0, res.describe()
    assert server.hits["/flaky.tar.gz"] == 3


def test_dropped_transfers_retry_then_75(
    work: Path, ca: TestCA, server: HttpsServer
) -> None:
    url = server.route("/dropped.tar.gz", Reply(200, GOOD, drop_after=len(GOOD) // 2))
    res = launch(
        work,
        ca,
        "run",
        "--code",
        url,
        "--code-sha256",
        GOOD_SHA,
        "--retries",
        "2",
        "main.py",
    )
    assert res.exit_code == 75, res.describe()
    assert server.hits["/dropped.tar.gz"] == 3
    assert cache_entries(work) == []  # the partial download is gone


def test_dropped_once_then_complete(
    work: Path, ca: TestCA, server: HttpsServer
) -> None:
    url = server.route(
        "/drop-once.tar.gz", Reply(200, GOOD, drop_after=100), Reply(200, GOOD)
    )
    res = launch(work, ca, "run", "--code", url, "--code-sha256", GOOD_SHA, "main.py")
    assert res.exit_code == 0, res.describe()
    assert server.hits["/drop-once.tar.gz"] == 2


def test_server_down_is_75(work: Path, ca: TestCA, server: HttpsServer) -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    url = f"https://127.0.0.1:{port}/x.tar.gz"
    res = launch(
        work,
        ca,
        "run",
        "--code",
        url,
        "--code-sha256",
        GOOD_SHA,
        "--retries",
        "1",
        "main.py",
    )
    assert res.exit_code == 75, res.describe()


def test_untrusted_certificate_is_2(
    work: Path, ca: TestCA, server: HttpsServer, session_tmp: Path
) -> None:
    other = TestCA(session_tmp / "other-ca", name="someone else")
    url = server.route("/untrusted.tar.gz", Reply(200, GOOD))
    res = run_runner(
        "python-launcher",
        [
            "--workdir",
            str(work),
            "run",
            "--cache",
            str(work / "cache"),
            "--cacert",
            str(other.cert),
            "--code",
            url,
            "--code-sha256",
            GOOD_SHA,
            "main.py",
        ],
    )
    assert res.exit_code == 2, res.describe()
    assert server.hits["/untrusted.tar.gz"] == 0


def test_bearer_token_from_file_and_url_credentials_redacted(
    work: Path, ca: TestCA, server: HttpsServer, open_tmp: Path
) -> None:
    token = "tok-" + os.urandom(8).hex()
    url = server.route("/private.tar.gz", Reply(200, GOOD, bearer=token))
    denied = launch(
        work, ca, "run", "--code", url, "--code-sha256", GOOD_SHA, "main.py"
    )
    assert denied.exit_code == 3, denied.describe()
    token_file = open_tmp / "token"
    token_file.write_text(token + "\n")
    token_file.chmod(0o600)
    res = launch(
        work,
        ca,
        "run",
        "--code",
        url,
        "--code-sha256",
        GOOD_SHA,
        "--token-file",
        str(token_file),
        "main.py",
    )
    assert res.exit_code == 0, res.describe()
    assert server.auth["/private.tar.gz"][-1] == f"Bearer {token}"
    assert token not in res.stderr and token not in res.stdout

    shutil.rmtree(work / "cache")  # a cache hit would not download at all
    password = "pw-" + os.urandom(8).hex()
    cred_url = url.replace("https://", f"https://user:{password}@") + "?sig=" + password
    bad = launch(
        work, ca, "run", "--code", cred_url, "--code-sha256", GOOD_SHA, "main.py"
    )
    assert bad.exit_code == 3, bad.describe()
    assert password not in bad.stderr and password not in bad.stdout


def test_oversized_download_is_2(work: Path, ca: TestCA, server: HttpsServer) -> None:
    blob = os.urandom(3 << 20)
    url = server.route("/huge.tar.gz", Reply(200, blob))
    res = launch(
        work,
        ca,
        "run",
        "--code",
        url,
        "--code-sha256",
        sha256(blob),
        "--max-size",
        str(2 << 20),
        "main.py",
    )
    assert res.exit_code == 2, res.describe()
    assert cache_entries(work) == []


# -- bad snapshots --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", EVIL_KINDS)
def test_bad_snapshots_are_refused(
    work: Path, ca: TestCA, server: HttpsServer, kind: str
) -> None:
    outside = str(work / "evil")
    data = evil(kind, outside)
    url = server.route(f"/evil-{kind}.tar.gz", Reply(200, data))
    res = launch(
        work,
        ca,
        "run",
        "--code",
        url,
        "--code-sha256",
        sha256(data),
        "--max-size",
        str(2 << 20),
        "main.py",
    )
    assert res.exit_code == 2, res.describe()
    assert "cannot be unpacked" in result(res)["error"]
    assert not Path(outside).exists() and not Path(outside).is_symlink()
    assert_nothing_escaped(work)
    assert cache_entries(work) == []  # neither the snapshot nor a temporary folder


# -- init duties: signals, reaping --------------------------------------------------------


def start(work: Path, program: str, *args: str) -> Any:
    snap = work / "prog.tar.gz"
    snap.write_bytes(make_snapshot({"main.py": program}))
    argv = [
        "--workdir",
        str(work),
        "run",
        "--cache",
        str(work / "cache"),
        "--code",
        f"file://{snap}",
        *args,
    ]
    return start_runner("python-launcher", argv)


def wait_for(path: Path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


HANDLES_TERM = """\
import os, signal, sys, time
def bye(signum, frame):
    open(os.path.join(sys.argv[1], "handled"), "w").write(str(signum))
    sys.exit(7)
signal.signal(signal.SIGTERM, bye)
open(os.path.join(sys.argv[1], "ready"), "w").close()
time.sleep(60)
"""

IGNORES_TERM = """\
import os, signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
open(os.path.join(sys.argv[1], "ready"), "w").close()
time.sleep(60)
"""

LEAVES_ORPHANS = """\
import os, subprocess, sys
p = subprocess.Popen(["sh", "-c", "sleep 300 & echo $! > " + sys.argv[1] + "/orphan; wait"], start_new_session=True)
while not os.path.exists(sys.argv[1] + "/orphan") or not open(sys.argv[1] + "/orphan").read().strip():
    pass
sys.exit(0)
"""


def test_sigterm_runs_the_programs_handler(work: Path) -> None:
    proc = start(work, HANDLES_TERM, "main.py", str(work))
    wait_for(work / "ready")
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    res = proc.wait(20)
    assert res.exit_code == 7, res.describe()
    assert (work / "handled").read_text() == str(int(signal.SIGTERM))
    assert time.monotonic() - t0 < 5


def test_ignored_sigterm_is_killed_after_the_grace(work: Path) -> None:
    proc = start(work, IGNORES_TERM, "--grace", "1s", "main.py", str(work))
    wait_for(work / "ready")
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    res = proc.wait(20)
    elapsed = time.monotonic() - t0
    assert res.exit_code == 143, res.describe()
    assert 0.9 < elapsed < 5
    assert result(res)["program_signal"] == signal.SIGKILL


def test_timeout_stops_the_program(work: Path) -> None:
    proc = start(
        work, IGNORES_TERM, "--timeout", "1s", "--grace", "500ms", "main.py", str(work)
    )
    res = proc.wait(30)
    assert res.exit_code == 1, res.describe()
    assert "--timeout" in result(res)["error"]


def test_orphans_are_ended_and_reaped(work: Path) -> None:
    proc = start(work, LEAVES_ORPHANS, "main.py", str(work))
    res = proc.wait(30)
    assert res.exit_code == 0, res.describe()
    pid = int((work / "orphan").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_sigterm_during_download_backoff_is_143(work: Path, ca: TestCA, server: HttpsServer) -> None:
    url = server.route("/busy.tar.gz", Reply(503, b"busy", headers={"Retry-After": "30"}))
    argv = ["--workdir", str(work), "run", "--cache", str(work / "cache"), "--cacert", str(ca.cert)]
    proc = start_runner("python-launcher", [*argv, "--code", url, "--code-sha256", GOOD_SHA, "main.py"])
    deadline = time.monotonic() + 20
    while server.hits["/busy.tar.gz"] == 0:
        assert time.monotonic() < deadline, "the launcher never asked"
        time.sleep(0.02)
    time.sleep(0.3)  # now in the 30 s Retry-After backoff
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    res = proc.wait(20)
    assert res.exit_code == 143, res.describe()
    assert time.monotonic() - t0 < 5
    assert server.hits["/busy.tar.gz"] == 1
    assert cache_entries(work) == []
