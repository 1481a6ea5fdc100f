"""python-launcher as PID 1 of a real Debian runtime image, side by side with tini.

The runtime image is a debootstrap'd bookworm with python3 (harness.rootfs, cached under
build/rootfs/); the team image adds the launcher as ENTRYPOINT, as the README tells teams to,
plus Debian's static tini for the comparison. Containers run with --read-only --tmpfs /tmp
--user 65532:65532. Each scenario runs under the launcher, under tini (``tini --``) and, as the
control that shows the scenario can fail, with python3 itself as PID 1. The table lands in
build/test/python-launcher-parity.md; the launcher must match or beat tini in every row.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.docker import docker_available, image_exists
from harness.rootfs import runtime_image
from harness.snapshots import make_snapshot

pytestmark = pytest.mark.skipif(not docker_available(), reason="needs a Docker engine")

GRACE_S = 2
STOP_TIMEOUT_S = 6  # docker stop's own grace: longer than the launcher's

PROGRAMS = {
    "exit.py": "import sys\nsys.exit(int(sys.argv[1]))\n",
    "killed.py": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n",
    "term.py": (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, lambda s, f: sys.exit(7))\n"
        "print('ready', flush=True)\n"
        "time.sleep(120)\n"
    ),
    "ignore.py": (
        "import signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('ready', flush=True)\n"
        "time.sleep(120)\n"
    ),
    # The program ignores SIGTERM and waits for its own child, which exits 5 on SIGTERM: only an
    # init that signals the whole process group ends it gracefully.
    "group.py": (
        "import signal, subprocess, sys\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import signal, sys, time\\n"
        'signal.signal(signal.SIGTERM, lambda s, f: sys.exit(5))\\nprint("ready", flush=True)\\n'
        "time.sleep(120)'])\n"
        "sys.exit(child.wait())\n"
    ),
    # Orphans: short-lived grandchildren re-parented to PID 1; then count zombies in /proc.
    "zombies.py": (
        "import os, subprocess, time\n"
        "for _ in range(5):\n"
        "    subprocess.run(['sh', '-c', 'sleep 0.2 & exit 0'])\n"
        "time.sleep(1.5)\n"
        "z = 0\n"
        "for p in os.listdir('/proc'):\n"
        "    try:\n"
        "        z += p.isdigit() and open(f'/proc/{p}/stat').read().rsplit(')', 1)[1].split()[0] == 'Z'\n"
        "    except OSError:\n"
        "        pass\n"
        "print('zombies', z, flush=True)\n"
    ),
}

PARITY: dict[str, dict[str, str]] = {}


@pytest.fixture(scope="module")
def launcher_image(images_lock: dict[str, Any]) -> str:
    """The tinyrun/python-launcher image ID from build/images.lock.json (`make images`)."""
    entry = images_lock.get("images", {}).get("python-launcher")
    if not entry or not image_exists(entry.get("id", "")):
        pytest.fail(
            "no python-launcher image in build/images.lock.json: run `make images`",
            pytrace=False,
        )
    return entry["id"]


def test_launcher_image_is_the_binary_only_and_small(launcher_image: str) -> None:
    out = subprocess.run(
        [
            "docker",
            "image",
            "inspect",
            "-f",
            "{{.Size}} {{len .RootFS.Layers}} {{json .Config.Entrypoint}}",
            launcher_image,
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    size, layers, entrypoint = out.stdout.split(" ", 2)
    assert int(size) < 2_000_000
    assert entrypoint.strip() == '["/usr/local/bin/python-launcher"]'
    PARITY["image size (python-launcher image / tini binary)"] = {
        "launcher": f"{int(size) / 1e6:.2f} MB ({layers} layer(s))",
        "tini": f"{Path('/usr/bin/tini-static').stat().st_size / 1e6:.2f} MB",
    }


@pytest.fixture(scope="module")
def team_image(
    repo_root: Path, launcher_image: str, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """The runtime image plus the launcher, copied from its image the way the README says."""
    ctx = tmp_path_factory.mktemp("team-image")
    shutil.copy("/usr/bin/tini-static", ctx / "tini")
    (ctx / "Dockerfile").write_text(
        f"FROM {launcher_image} AS launcher\n"
        f"FROM {runtime_image(repo_root)}\n"
        "COPY --from=launcher /usr/local/bin/python-launcher /usr/local/bin/python-launcher\n"
        "COPY tini /usr/bin/tini\n"
        'ENTRYPOINT ["/usr/local/bin/python-launcher"]\n'
    )
    out = subprocess.run(
        ["docker", "build", "-q", str(ctx)], check=True, capture_output=True, text=True
    )
    return out.stdout.strip()


@pytest.fixture(scope="module")
def code(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """/code in the containers: snap.tar.gz for the launcher, src/ unpacked for tini and python."""
    folder = tmp_path_factory.mktemp("code")
    (folder / "snap.tar.gz").write_bytes(make_snapshot(PROGRAMS))
    (folder / "src").mkdir()
    for name, text in PROGRAMS.items():
        (folder / "src" / name).write_text(text)
    for p in [folder, *folder.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    return folder


@pytest.fixture(scope="module", autouse=True)
def parity_table(repo_root: Path) -> Iterator[None]:
    yield
    out = repo_root / "build" / "test" / "python-launcher-parity.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        "| scenario | python-launcher | tini | python3 as PID 1 (control) |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {k} | {v.get('launcher', '')} | {v.get('tini', '')} | {v.get('none', '')} |"
        for k, v in PARITY.items()
    ]
    out.write_text("\n".join(lines) + "\n")


class Box:
    """One detached container running SCRIPT under INIT ("launcher", "tini" or "none")."""

    def __init__(
        self, image: str, code: Path, init: str, script: str, *args: str
    ) -> None:
        flags = [
            "--read-only",
            "--tmpfs",
            "/tmp",
            "--user",
            "65532:65532",
            "-v",
            f"{code}:/code:ro",
        ]
        if init == "launcher":
            argv = [
                image,
                "run",
                "--code",
                "file:///code/snap.tar.gz",
                "--grace",
                f"{GRACE_S}s",
                "--",
                script,
                *args,
            ]
        elif init == "tini":
            argv = [
                "--entrypoint",
                "/usr/bin/tini",
                image,
                "--",
                "python3",
                f"/code/src/{script}",
                *args,
            ]
        else:
            argv = ["--entrypoint", "python3", image, f"/code/src/{script}", *args]
        out = subprocess.run(
            ["docker", "run", "-d", *flags, *argv],
            check=True,
            capture_output=True,
            text=True,
        )
        self.id = out.stdout.strip()

    def logs(self) -> str:
        return subprocess.run(
            ["docker", "logs", self.id], capture_output=True, text=True, check=False
        ).stdout

    def wait_for_output(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.logs():
            assert time.monotonic() < deadline, (
                f"container never printed {text!r}: {self.logs()}"
            )
            time.sleep(0.05)

    def wait(self) -> int:
        out = subprocess.run(
            ["docker", "wait", self.id],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return int(out.stdout.strip())

    def stop(self) -> tuple[int, float]:
        t0 = time.monotonic()
        subprocess.run(
            ["docker", "stop", "-t", str(STOP_TIMEOUT_S), self.id],
            check=True,
            capture_output=True,
        )
        return self.wait(), time.monotonic() - t0

    def remove(self) -> None:
        subprocess.run(
            ["docker", "rm", "-f", self.id], capture_output=True, check=False
        )


def run_box(
    image: str, code: Path, init: str, script: str, *args: str
) -> tuple[int, str]:
    box = Box(image, code, init, script, *args)
    try:
        return box.wait(), box.logs()
    finally:
        box.remove()


def stop_box(image: str, code: Path, init: str, script: str) -> tuple[int, float]:
    box = Box(image, code, init, script)
    try:
        box.wait_for_output("ready")
        return box.stop()
    finally:
        box.remove()


INITS = ("launcher", "tini", "none")


@pytest.mark.parametrize("code_in", [0, 1, 99])
def test_exit_codes_pass_through(team_image: str, code: Path, code_in: int) -> None:
    got = {
        init: run_box(team_image, code, init, "exit.py", str(code_in))[0]
        for init in INITS
    }
    PARITY[f"exit {code_in} passes through"] = {k: str(v) for k, v in got.items()}
    assert got["launcher"] == code_in == got["tini"]


def test_signal_killed_child_is_128_plus_n(team_image: str, code: Path) -> None:
    got = {init: run_box(team_image, code, init, "killed.py")[0] for init in INITS}
    PARITY["child killed by SIGKILL"] = {k: str(v) for k, v in got.items()}
    assert got["launcher"] == 137 == got["tini"]


def test_docker_stop_runs_the_handler(team_image: str, code: Path) -> None:
    got = {init: stop_box(team_image, code, init, "term.py") for init in INITS}
    PARITY["docker stop: handler runs, its code (7) comes through"] = {
        k: f"{rc} in {t:.1f} s" for k, (rc, t) in got.items()
    }
    assert got["launcher"][0] == 7 == got["tini"][0]
    assert got["launcher"][1] < 5


def test_ignored_sigterm_is_killed_after_the_grace(team_image: str, code: Path) -> None:
    got = {init: stop_box(team_image, code, init, "ignore.py") for init in INITS}
    PARITY[
        f"SIGTERM ignored: killed after the grace ({GRACE_S} s; docker's {STOP_TIMEOUT_S} s)"
    ] = {k: f"{rc} in {t:.1f} s" for k, (rc, t) in got.items()}
    rc, elapsed = got["launcher"]
    assert (
        rc == 143
    )  # documented: 128 + the stop signal, the program did not end by itself
    assert (
        GRACE_S - 0.5 < elapsed < STOP_TIMEOUT_S - 0.5
    )  # the launcher's grace, not docker's
    assert elapsed <= got["tini"][1]


def test_sigterm_reaches_the_whole_group(team_image: str, code: Path) -> None:
    got = {init: stop_box(team_image, code, init, "group.py") for init in INITS}
    PARITY["SIGTERM reaches the program's own child (process group)"] = {
        k: f"{rc} in {t:.1f} s" for k, (rc, t) in got.items()
    }
    assert got["launcher"][0] == 5


def test_orphans_leave_no_zombie(team_image: str, code: Path) -> None:
    got = {init: run_box(team_image, code, init, "zombies.py") for init in INITS}
    counts = {}
    for init, (rc, logs) in got.items():
        line = [x for x in logs.splitlines() if x.startswith("zombies ")]
        counts[init] = int(line[0].split()[1]) if line else -1
        assert rc == 0, logs
    PARITY["zombies left by 5 orphaned grandchildren"] = {
        k: str(v) for k, v in counts.items()
    }
    assert counts["launcher"] == 0 == counts["tini"]
    assert counts["none"] > 0  # the control: without a reaping init they pile up
