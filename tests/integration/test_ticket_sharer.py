"""ticket-sharer against a real MIT KDC on loopback: share (FILE:, DIR:, folders, bad sources,
inotify, the tight-loop reader), renew (short lifetimes, re-init, wrong key), check, status,
signals and the manual."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from harness import runner as hrunner
from harness.checks import assert_fails, assert_ok, wait_until
from harness.kdc import Kdc
from harness.process import Process
from harness.result import RunResult

sys.path.insert(0, str(Path(__file__).parent))
import ticket_sharer_ccache as ccache

RUNNER = "ticket-sharer"
PASSWORD = "sharer-Secret-1"
Run = Callable[..., RunResult]


@dataclass
class Realm:
    kdc: Kdc
    user: str  # principal with PASSWORD
    other: str  # a second principal with PASSWORD

    def env(self, **extra: str) -> dict[str, str]:
        return {"KRB5_CONFIG": str(self.kdc.krb5_conf), **extra}

    def kinit(
        self, path: Path, principal: str | None = None, lifetime: str = "1h"
    ) -> Path:
        self.kdc.kinit(
            principal or self.user, path, password=PASSWORD, lifetime=lifetime
        )
        return path


@pytest.fixture(scope="module")
def realm(kdc: Kdc) -> Realm:
    return Realm(
        kdc,
        kdc.add_principal("sharer-user", PASSWORD),
        kdc.add_principal("sharer-other", PASSWORD),
    )


@pytest.fixture
def sharer(run_runner: Run, realm: Realm) -> Run:
    def run(
        args: list[str], env: dict[str, str] | None = None, **kw: object
    ) -> RunResult:
        return run_runner(RUNNER, args, env=realm.env(**(env or {})), **kw)

    return run


@pytest.fixture
def start(bin_dir: Path, realm: Realm) -> Iterator[Callable[..., Process]]:
    """Start a long-running ticket-sharer; every one still running is killed at the end."""
    procs: list[Process] = []

    def launch(args: list[str], env: dict[str, str] | None = None) -> Process:
        proc = hrunner.start_runner(
            RUNNER, args, env=realm.env(**(env or {})), bin_dir=bin_dir
        )
        procs.append(proc)
        return proc

    yield launch
    for proc in procs:
        if not proc.poll():
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)


def stop(proc: Process, timeout: float = 5.0) -> RunResult:
    """SIGTERM, and the run's result (it must exit 143 within TIMEOUT)."""
    proc.send_signal(signal.SIGTERM)
    result = proc.wait(timeout)
    assert result.exit_code == 143, f"SIGTERM must exit 143{result}"
    return result


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def principal_of(path: Path) -> str:
    return ccache.parse(path.read_bytes()).principal


def events(result: RunResult, name: str) -> list[dict]:
    return [e for e in result.logs if e.get("event") == name]


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    src, dst = tmp_path / "host", tmp_path / "cache"
    src.mkdir()
    dst.mkdir()
    return src, dst


# -- share: sources ---------------------------------------------------------------------------


def test_share_file_source_mode_group_status_check(
    sharer: Run, realm: Realm, dirs: tuple[Path, Path]
) -> None:
    src, dst = dirs
    cache = realm.kinit(src / "krb5cc")
    target = dst / "krb5cc"
    res = assert_ok(
        sharer(
            [
                "share",
                "--source",
                f"FILE:{cache}",
                "--target",
                str(target),
                "--once",
                "--group",
                "65532",
                "--mode",
                "0640",
            ]
        )
    )
    assert res["principal"] == realm.user and res["published"] == 1, res
    st = target.stat()
    assert oct(st.st_mode & 0o7777) == "0o640" and st.st_gid == 65532, st
    assert not [p for p in dst.iterdir() if p.name != "krb5cc"], (
        "temporary files left behind"
    )
    parsed = ccache.parse(target.read_bytes())
    assert parsed.principal == realm.user and parsed.tgt() is not None
    realm.kdc.klist(f"FILE:{target}")  # libkrb5's own reader accepts it

    status = assert_ok(sharer(["status", "--target", str(target)]))
    assert status["principal"] == realm.user and status["valid"] is True
    assert (
        status["source"] == str(cache)
        and status["mode"] == "0640"
        and status["gid"] == 65532
    )
    for key in ("start", "end", "flags", "left_s", "published"):
        assert key in status, status
    assert_ok(sharer(["check", "--target", str(target), "--min-left", "1m"]))
    res = assert_fails(
        sharer(["check", "--target", str(target), "--min-left", "2h"]), 3
    )
    assert "expires" in res["error"], res
    assert_fails(
        sharer(["check", "--target", str(target), "--principal", realm.other]), 3
    )


def test_share_dir_collection_follows_primary(
    start: Callable[..., Process], realm: Realm, dirs: tuple[Path, Path]
) -> None:
    src, dst = dirs
    realm.kinit(src / "tktA", realm.user)
    realm.kinit(src / "tktB", realm.other)
    (src / "primary").write_text("tktB\n")
    target = dst / "krb5cc"
    proc = start(
        ["share", "--source", f"DIR:{src}", "--target", str(target), "--interval", "1h"]
    )
    wait_until(
        lambda: target.exists() and principal_of(target) == realm.other, timeout=10
    )
    tmp = src / "primary.new"
    tmp.write_text("tktA\n")
    tmp.rename(src / "primary")  # inotify, not the hour-long interval
    wait_until(lambda: principal_of(target) == realm.user, timeout=10)
    result = stop(proc)
    assert len(events(result, "published")) == 2, result


def test_share_dir_primary_that_is_a_fifo_does_not_block(
    sharer: Run, realm: Realm, dirs: tuple[Path, Path]
) -> None:
    """A FIFO named primary (with a silent writer) is not a collection's primary file: the
    sharer falls back to tkt at once instead of waiting on the pipe."""
    src, dst = dirs
    realm.kinit(src / "tkt", realm.user)
    os.mkfifo(src / "primary")
    writer = os.open(src / "primary", os.O_RDWR | os.O_NONBLOCK)
    try:
        began = time.monotonic()
        res = assert_ok(
            sharer(
                [
                    "share",
                    "--source",
                    f"DIR:{src}",
                    "--target",
                    str(dst / "krb5cc"),
                    "--once",
                ]
            )
        )
    finally:
        os.close(writer)
    assert time.monotonic() - began < 10
    assert res["principal"] == realm.user, res


def test_share_folder_picks_newest_valid(
    sharer: Run, realm: Realm, dirs: tuple[Path, Path], session_tmp: Path
) -> None:
    src, dst = dirs
    realm.kinit(src / "older", realm.other)
    time.sleep(1.1)  # ticket times have one-second resolution
    realm.kinit(src / "newer", realm.user)
    expired = src / "expired"
    realm.kinit(expired, realm.other, lifetime="2s")
    (src / "garbage").write_bytes(os.urandom(300))
    (src / "empty").write_bytes(b"")
    time.sleep(2.5)
    res = assert_ok(
        sharer(
            ["share", "--source", str(src), "--target", str(dst / "krb5cc"), "--once"]
        )
    )
    assert res["principal"] == realm.user, res
    assert_ok(
        sharer(
            [
                "share",
                "--source",
                str(src),
                "--target",
                str(dst / "other"),
                "--once",
                "--principal",
                realm.other,
            ]
        )
    )
    assert principal_of(dst / "other") == realm.other


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])


BAD_SOURCES: dict[str, Callable[[Realm, Path], None]] = {
    "expired": lambda r, p: (r.kinit(p, lifetime="2s"), time.sleep(2.5)),
    "garbage": lambda r, p: p.write_bytes(os.urandom(700)),
    "truncated": lambda r, p: (r.kinit(p), _truncate(p)),
    "truncated_between_entries": lambda r, p: (
        r.kinit(p),
        p.write_bytes(p.read_bytes() + b"\x00\x00\x00\x01"),
    ),
    "empty": lambda r, p: p.write_bytes(b""),
    "wrong_principal": lambda r, p: r.kinit(p, r.other),
    "missing": lambda r, p: None,
}


@pytest.mark.parametrize("kind", sorted(BAD_SOURCES))
def test_bad_source_never_replaces_good_ticket(
    kind: str, sharer: Run, realm: Realm, dirs: tuple[Path, Path]
) -> None:
    src, dst = dirs
    target = dst / "krb5cc"
    good = realm.kinit(src / "good")
    args = ["--target", str(target), "--once", "--principal", realm.user]
    assert_ok(sharer(["share", "--source", f"FILE:{good}", *args]))
    before = digest(target)
    bad = src / "bad"
    BAD_SOURCES[kind](realm, bad)
    result = sharer(["share", "--source", f"FILE:{bad}", *args])
    res = assert_fails(result, 3)
    assert digest(target) == before, f"{kind} replaced the good ticket{result}"
    assert "keeping the last good ticket" in result.errors[0]["msg"], result
    assert res["error"], res
    assert not [p for p in dst.iterdir() if p.name != "krb5cc"], (
        "temporary files left behind"
    )
    assert_ok(sharer(["check", "--target", str(target)]))


def test_no_ticket_says_what_to_run(sharer: Run, dirs: tuple[Path, Path]) -> None:
    src, dst = dirs
    result = sharer(
        [
            "share",
            "--source",
            str(src),
            "--target",
            str(dst / "krb5cc"),
            "--once",
            "--host-path",
            "/home/dev/.tinyrun/krb5",
        ]
    )
    assert_fails(result, 3)
    assert "kinit -c FILE:/home/dev/.tinyrun/krb5/krb5cc" in result.errors[0]["msg"], (
        result
    )
    assert not (dst / "krb5cc").exists()
    res = assert_fails(sharer(["check", "--target", str(dst / "krb5cc")]), 3)
    assert "does not exist" in res["error"]


@pytest.mark.parametrize("spec", ["KCM:", "KEYRING:persistent:1000", "MEMORY:x"])
def test_unshareable_cache_types(
    spec: str, sharer: Run, dirs: tuple[Path, Path]
) -> None:
    res = assert_fails(
        sharer(["share", "--source", spec, "--target", str(dirs[1] / "krb5cc")]), 2
    )
    assert (
        "kinit -c FILE:" in res["error"]
        and "cannot be read from a container" in res["error"]
    ), res


def test_env_fallback_and_usage_errors(
    sharer: Run, realm: Realm, dirs: tuple[Path, Path]
) -> None:
    src, dst = dirs
    realm.kinit(src / "krb5cc")
    env = {
        "TINYRUN_SOURCE": str(src),
        "TINYRUN_TARGET": str(dst / "krb5cc"),
        "TINYRUN_ONCE": "1",
    }
    assert_ok(sharer(["share"], env=env))
    assert_fails(sharer(["share", "--mode", "abc"], env=env), 2)
    assert_fails(sharer(["share", "--group", "no-such-group-xyz"], env=env), 2)
    assert_fails(sharer(["share", "--interval", "soon"], env=env), 2)


def test_help_is_the_manual(sharer: Run) -> None:
    for args, words in (
        (
            ["--help"],
            [
                "share",
                "renew",
                "check",
                "status",
                "platform_kerberos_cache",
                "Exit codes",
            ],
        ),
        (
            ["share", "--help"],
            [
                "--source",
                "--interval",
                "--warn-before",
                "--principal",
                "--group",
                "--mode",
                "TINYRUN_SOURCE",
                "KCM",
                "inotify",
                "atomic",
            ],
        ),
        (
            ["renew", "--help"],
            ["--keytab", "--renew-at", "--once", "--destroy-on-exit", "_HOST"],
        ),
        (["check", "--help"], ["--min-left", "healthcheck"]),
        (["status", "--help"], ["principal", "renew_until", "source"]),
    ):
        result = sharer(args)
        assert result.exit_code == 0, result
        for word in words:
            assert word in result.stdout, (
                f"{word!r} missing from {' '.join(args)}{result}"
            )


# -- share: following the source --------------------------------------------------------------


def test_follows_changes_and_keeps_last_good_when_source_goes(
    start: Callable[..., Process], realm: Realm, dirs: tuple[Path, Path]
) -> None:
    src, dst = dirs
    target = dst / "krb5cc"
    realm.kinit(src / "krb5cc", realm.user)
    proc = start(
        [
            "share",
            "--source",
            str(src / "krb5cc"),
            "--target",
            str(target),
            "--interval",
            "1h",
            "--warn-before",
            "2h",
        ]
    )
    wait_until(target.exists, timeout=10)
    first = digest(target)
    # a new kinit (written in place, in several steps) is published at once
    realm.kinit(src / "krb5cc", realm.other)
    wait_until(lambda: principal_of(target) == realm.other, timeout=10)
    good = digest(target)
    assert good != first
    # garbage, then the source disappears: the last good ticket stays
    (src / "krb5cc").write_bytes(b"\x05\x04garbage")
    time.sleep(0.5)
    (src / "krb5cc").unlink()
    time.sleep(0.5)
    assert digest(target) == good
    result = stop(proc)
    kept = events(result, "kept")
    assert kept and all(e["level"] == "warn" for e in kept), result
    assert any(
        "does not exist" in e["msg"] and "keeping the last good ticket" in e["msg"]
        for e in kept
    ), result
    assert events(result, "expiring"), result  # less than --warn-before is left
    assert result.result and result.result["published"] == 2, result


def test_restart_adopts_published_ticket_and_expiry_is_reported(
    start: Callable[..., Process], realm: Realm, sharer: Run, dirs: tuple[Path, Path]
) -> None:
    src, dst = dirs
    target = dst / "krb5cc"
    realm.kinit(src / "krb5cc", lifetime="4s")
    assert_ok(
        sharer(["share", "--source", str(src), "--target", str(target), "--once"])
    )
    (src / "krb5cc").unlink()
    proc = start(
        ["share", "--source", str(src), "--target", str(target), "--interval", "1h"]
    )
    time.sleep(6.5)  # the sharer wakes a second after the published ticket expires
    result = stop(proc)
    assert events(result, "found"), result
    assert events(result, "expired"), result
    assert target.exists(), "an expired published ticket is left for check to report"
    assert_fails(sharer(["check", "--target", str(target)]), 3)


def test_sigterm_is_prompt(
    start: Callable[..., Process], dirs: tuple[Path, Path]
) -> None:
    src, dst = dirs
    proc = start(["share", "--source", str(src), "--target", str(dst / "krb5cc")])
    time.sleep(0.3)
    began = time.monotonic()
    result = stop(proc, timeout=2)
    assert time.monotonic() - began < 1.0, result
    assert result.result and result.result["exit_code"] == 143, result


def test_tight_loop_reader_never_sees_a_partial_cache(
    start: Callable[..., Process], realm: Realm, dirs: tuple[Path, Path], tmp_path: Path
) -> None:
    """The sharer republishes thousands of times while a reader opens and parses the target in
    a tight loop (strict parser and libkrb5): every read must be one complete, valid cache."""
    src, dst = dirs
    target = dst / "krb5cc"
    staging = tmp_path / "staging"
    staging.mkdir()
    caches = [
        realm.kinit(staging / "a", realm.user).read_bytes(),
        realm.kinit(staging / "b", realm.other).read_bytes(),
    ]
    (src / "krb5cc").write_bytes(caches[0])
    proc = start(
        [
            "--log-level",
            "warn",
            "share",
            "--source",
            str(src / "krb5cc"),
            "--target",
            str(target),
            "--settle",
            "0",
            "--interval",
            "1h",
        ]
    )
    wait_until(target.exists, timeout=10)
    stop_file = tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, ccache.__file__, str(target), str(stop_file)],
        stdout=subprocess.PIPE,
        env={**os.environ, **realm.env()},
    )
    publishes, deadline = 0, time.monotonic() + 90
    wanted = int(os.environ.get("TINYRUN_SHARER_REPUBLISH", "3000"))
    try:
        while publishes < wanted and time.monotonic() < deadline:
            ino = target.stat().st_ino
            tmp = src / ".krb5cc.new"
            tmp.write_bytes(caches[(publishes + 1) % 2])
            tmp.rename(src / "krb5cc")
            wait_until(
                lambda ino=ino: target.stat().st_ino != ino, timeout=5, interval=0.0005
            )
            publishes += 1
    finally:
        stop_file.touch()
        out, _ = reader.communicate(timeout=30)
    result = stop(proc)
    report = json.loads(out)
    print(
        f"\ntight-loop reader: {report['reads']} reads, {report['bad_count']} bad, "
        f"{publishes} republishes in {report['seconds']:.1f}s"
    )
    assert publishes >= wanted, f"only {publishes} republishes"
    assert report["bad_count"] == 0 and report["missing"] == 0, report
    assert report["reads"] >= publishes, report
    assert report["principals"] == sorted([realm.user, realm.other]), report
    assert result.result and result.result["published"] >= publishes, result


# -- renew ------------------------------------------------------------------------------------


def canonical_host() -> str:
    """This machine's name as ticket-sharer expands _HOST (canonical name, lower case)."""
    host = socket.gethostname()
    try:
        host = socket.getaddrinfo(host, None, flags=socket.AI_CANONNAME)[0][3] or host
    except OSError:
        pass
    return host.lower()


@pytest.fixture(scope="module")
def service(kdc: Kdc, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A service principal svc-sharer/<this host> and its keytab."""
    folder = tmp_path_factory.mktemp("svc")
    principal = kdc.add_principal(f"svc-sharer/{canonical_host()}")
    return principal, kdc.keytab(principal, folder / "svc.keytab")


def test_renew_cycles_and_reinit_at_renew_until(
    start: Callable[..., Process],
    sharer: Run,
    service: tuple[str, Path],
    dirs: tuple[Path, Path],
) -> None:
    principal, keytab = service
    target = dirs[1] / "krb5cc"
    # 20s tickets renewable for 50s, renewed at 50%: renewals at ~10s, 20s, 30s (the last reaches
    # renew-until at 50s), then a new login from the keytab at ~40s.
    proc = start(
        [
            "renew",
            "--keytab",
            str(keytab),
            "--principal",
            "svc-sharer/_HOST@" + principal.split("@")[1],
            "--lifetime",
            "20s",
            "--renew-lifetime",
            "50s",
            "--renew-at",
            "50%",
            "--destroy-on-exit",
            "--group",
            "65532",
            "--target",
            str(target),
        ]
    )
    wait_until(target.exists, timeout=10)
    first = ccache.parse(target.read_bytes()).tgt()
    assert first is not None and first.renew_till > first.endtime
    seen_ends, checks, began = set(), 0, time.monotonic()
    while time.monotonic() - began < 48:
        res = sharer(["check", "--target", str(target), "--min-left", "1s"])
        assert res.exit_code == 0, f"the published ticket lapsed{res}"
        checks += 1
        seen_ends.add(ccache.parse(target.read_bytes()).tgt().endtime)  # type: ignore[union-attr]
        time.sleep(1)
    result = stop(proc)
    assert not target.exists(), "--destroy-on-exit left the ticket"
    res = result.result or {}
    assert res.get("renewals", 0) >= 3 and res.get("logins", 0) >= 2, result
    assert len(events(result, "renewed")) >= 3, result
    assert any("renew-until is reached" in e["msg"] for e in events(result, "login")), (
        result
    )
    assert len(seen_ends) >= 4, seen_ends
    print(
        f"\nrenew: {res.get('renewals')} renewals, {res.get('logins')} logins, {checks} checks ok"
    )


def test_renew_default_principal_and_once(
    sharer: Run, service: tuple[str, Path], dirs: tuple[Path, Path]
) -> None:
    principal, keytab = service
    target = dirs[1] / "krb5cc"
    # the keytab's first principal is the default
    res = assert_ok(
        sharer(["renew", "--keytab", str(keytab), "--target", str(target), "--once"])
    )
    assert res["principal"] == principal and res["logins"] == 1, res
    status = assert_ok(sharer(["status", "--target", str(target)]))
    assert status["source"] == f"keytab {keytab}", status
    assert target.exists(), "--once leaves the ticket for the main container"


def test_renew_wrong_key_exit_3(
    sharer: Run, kdc: Kdc, tmp_path: Path, dirs: tuple[Path, Path]
) -> None:
    principal = kdc.add_principal("svc-stale")
    keytab = kdc.keytab(principal, tmp_path / "stale.keytab")
    kdc.kadmin(f"cpw -randkey {principal}")  # the keytab now holds old keys
    result = sharer(
        [
            "renew",
            "--keytab",
            str(keytab),
            "--principal",
            principal,
            "--target",
            str(dirs[1] / "krb5cc"),
        ]
    )
    res = assert_fails(result, 3)
    assert principal in res["error"] and str(keytab) in res["error"], res
    assert not (dirs[1] / "krb5cc").exists()


def test_renew_unreachable_kdc_once_exit_75(
    sharer: Run,
    service: tuple[str, Path],
    tmp_path: Path,
    dirs: tuple[Path, Path],
    realm: Realm,
) -> None:
    _principal, keytab = service
    conf = tmp_path / "krb5.conf"
    text = realm.kdc.krb5_conf.read_text().replace(
        f"127.0.0.1:{realm.kdc.port}", "127.0.0.1:9"
    )
    conf.write_text(text)
    result = sharer(
        [
            "renew",
            "--keytab",
            str(keytab),
            "--once",
            "--target",
            str(dirs[1] / "krb5cc"),
        ],
        env={"KRB5_CONFIG": str(conf)},
        timeout=60,
    )
    assert_fails(result, 75)


def test_share_copy_leaves_no_temporary_files_on_unwritable_target(
    sharer: Run, realm: Realm, dirs: tuple[Path, Path]
) -> None:
    src, dst = dirs
    realm.kinit(src / "krb5cc")
    result = sharer(
        [
            "share",
            "--source",
            str(src),
            "--target",
            str(dst / "missing-folder" / "krb5cc"),
            "--once",
        ]
    )
    res = assert_fails(result, 1)
    assert "writable" in res["error"], res
