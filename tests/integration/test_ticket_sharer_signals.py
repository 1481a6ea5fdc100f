"""ticket-sharer stops within 5 s with 128+N on SIGTERM/SIGINT in every subcommand, also while
libkrb5 waits for a KDC that accepts connections but never answers, and the published cache keeps
the last good ticket."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from harness import runner as hrunner
from harness.checks import assert_fails, wait_until
from harness.kdc import Kdc, KerberosUser
from harness.process import Process
from harness.result import RunResult

RUNNER = "ticket-sharer"
STOPS = [
    pytest.param(signal.SIGTERM, 143, id="SIGTERM"),
    pytest.param(signal.SIGINT, 130, id="SIGINT"),
]


@pytest.fixture
def silent_kdc() -> Iterator[int]:
    """A TCP port that accepts connections (the kernel's backlog) but never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield sock.getsockname()[1]


@pytest.fixture
def conf(kdc: Kdc, tmp_path: Path) -> Path:
    """A krb5.conf of our own, pointing at the real KDC until a test points it elsewhere."""
    path = tmp_path / "krb5.conf"
    shutil.copy(kdc.krb5_conf, path)
    return path


def point_at(conf: Path, kdc: Kdc, port: int) -> None:
    """Send this realm's KDC traffic to PORT (libkrb5 reads krb5.conf for every new context)."""
    text = kdc.krb5_conf.read_text().replace(f"127.0.0.1:{kdc.port}", f"127.0.0.1:{port}")
    conf.write_text(text)


@pytest.fixture
def start(bin_dir: Path, conf: Path) -> Iterator[Callable[..., Process]]:
    procs: list[Process] = []

    def launch(args: list[str]) -> Process:
        proc = hrunner.start_runner(RUNNER, args, env={"KRB5_CONFIG": str(conf)}, bin_dir=bin_dir)
        procs.append(proc)
        return proc

    yield launch
    for proc in procs:
        if not proc.poll():
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)


@pytest.fixture
def published(kdc: Kdc, alice: KerberosUser, tmp_path: Path) -> Path:
    """A good ticket already at the target (the last one a sharer published)."""
    folder = tmp_path / "cache"
    folder.mkdir()
    target = folder / "krb5cc"
    kdc.kinit(alice.principal, target, password=alice.password, lifetime="1h")
    return target


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stop_within(proc: Process, sig: int, code: int) -> tuple[RunResult, float]:
    """Send SIG; the run must exit with CODE within 5 s. Returns the result and seconds taken."""
    began = time.monotonic()
    proc.send_signal(sig)
    result = proc.wait(10)
    took = time.monotonic() - began
    name = signal.Signals(sig).name
    assert result.exit_code == code, f"{name}: exit {code} wanted, {took:.1f}s{result}"
    assert took < 5, f"took {took:.1f}s to stop{result}"
    assert result.result and result.result["exit_code"] == code, result
    print(f"\n{name}: stopped in {took * 1000:.0f} ms")
    return result, took


def assert_good(path: Path, digest_before: str, alice: KerberosUser, kdc: Kdc) -> None:
    assert digest(path) == digest_before, "the published ticket changed"
    assert not [p for p in path.parent.iterdir() if p.name != path.name], "temporary files left"
    kdc.klist(f"FILE:{path}")


def still_running(proc: Process, seconds: float) -> None:
    time.sleep(seconds)
    assert not proc.poll(), f"exited before the signal{proc.wait(1)}"


@pytest.mark.parametrize(("sig", "code"), STOPS)
@pytest.mark.parametrize("once", [False, True], ids=["loop", "once"])
def test_renew_login_to_silent_kdc(
    sig: int,
    code: int,
    once: bool,
    start: Callable[..., Process],
    conf: Path,
    kdc: Kdc,
    silent_kdc: int,
    alice: KerberosUser,
    published: Path,
) -> None:
    point_at(conf, kdc, silent_kdc)
    before = digest(published)
    args = ["renew", "--keytab", str(alice.keytab), "--target", str(published)]
    proc = start([*args, "--once"] if once else args)
    still_running(proc, 1.5)  # blocked in the login: the KDC took the connection, never answers
    stop_within(proc, sig, code)
    assert_good(published, before, alice, kdc)


def test_renew_renewal_to_silent_kdc(
    start: Callable[..., Process],
    conf: Path,
    kdc: Kdc,
    silent_kdc: int,
    alice: KerberosUser,
    tmp_path: Path,
) -> None:
    target = tmp_path / "cache" / "krb5cc"
    target.parent.mkdir()
    args = ["renew", "--keytab", str(alice.keytab), "--target", str(target)]
    proc = start([*args, "--lifetime", "20s", "--renew-lifetime", "1h", "--renew-at", "10%"])
    wait_until(target.exists, timeout=10)
    before = digest(target)
    point_at(conf, kdc, silent_kdc)  # the renewal, due after 2 s, now hangs
    still_running(proc, 4)
    result, _ = stop_within(proc, signal.SIGTERM, 143)
    assert not [e for e in result.logs if e.get("event") == "renewed"], result
    assert_good(target, before, alice, kdc)


@pytest.mark.parametrize(("sig", "code"), STOPS)
def test_share_waiting_for_changes(
    sig: int,
    code: int,
    start: Callable[..., Process],
    kdc: Kdc,
    alice: KerberosUser,
    tmp_path: Path,
) -> None:
    source = tmp_path / "host"
    source.mkdir()
    shutil.copy(alice.ccache_path, source / "krb5cc")
    target = tmp_path / "cache" / "krb5cc"
    target.parent.mkdir()
    proc = start(["share", "--source", str(source), "--target", str(target)])
    wait_until(target.exists, timeout=10)
    before = digest(target)
    still_running(proc, 0.5)  # waiting in inotify
    result, _ = stop_within(proc, sig, code)
    assert result.result["published"] == 1, result
    assert_good(target, before, alice, kdc)


@pytest.mark.parametrize("command", ["check", "status"])
def test_check_and_status_cannot_be_held_by_a_fifo(
    command: str, start: Callable[..., Process], tmp_path: Path
) -> None:
    """check and status only read a file: the one way to block them, a FIFO whose writer never
    writes, is refused at once (a ticket cache is a regular file)."""
    fifo = tmp_path / "krb5cc"
    os.mkfifo(fifo)
    writer = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # a writer that holds it open, silent
    try:
        proc = start([command, "--target", str(fifo)])
        began = time.monotonic()
        result = proc.wait(10)
    finally:
        os.close(writer)
    assert time.monotonic() - began < 5, result
    res = assert_fails(result, 3)
    assert "not a regular file" in res["error"], res
