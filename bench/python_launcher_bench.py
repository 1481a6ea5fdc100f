"""python-launcher benchmark, side by side in one run. Prints one JSON object (never asserted).

    python bench/python_launcher_bench.py [--bin build/bin] [--hello build/bench/hello] [--mb 50]

- start to exit of a static hello-world (the wrapper's whole cost): alone, under `tini -s --`, under `dumb-init` and under
  `python-launcher run` (a file:// snapshot folder, --python HELLO), with hyperfine;
- fetch + verify + unpack of a snapshot of --mb MB from a loopback HTTPS server (the test CA),
  against `curl | tee | sha256sum` plus `tar xzf` of the same file;
- a cache hit: bytes fetched (the server counts requests);
- the image size of tinyrun/python-launcher when `make images` built it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from harness.https import HttpsServer, Reply
from harness.snapshots import sha256
from harness.tls import TestCA


def hyperfine_ms(commands: dict[str, str], runs: int) -> dict[str, dict[str, float]]:
    """Min and median wall time per command (this machine is shared: the median is noisy)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run(
            [
                "hyperfine",
                "-N",
                "-w",
                "20",
                "-r",
                str(runs),
                "--export-json",
                out.name,
                *commands.values(),
            ],
            check=True,
            capture_output=True,
        )
        data = json.loads(Path(out.name).read_text())
    return {
        name: {
            "min": round(min(r["times"]) * 1000, 3),
            "median": round(statistics.median(r["times"]) * 1000, 3),
        }
        for name, r in zip(commands, data["results"], strict=True)
    }


def start_to_exec(bin_dir: Path, hello: Path, runs: int) -> dict[str, dict[str, float]]:
    """The launcher's workdir on tmpfs, as in a container started with --tmpfs /tmp."""
    shm = Path("/dev/shm")
    work = Path(tempfile.mkdtemp(prefix="launcher-bench-", dir=shm if shm.is_dir() else None))
    snap = work / "snap"
    snap.mkdir()
    (snap / "x.py").touch()
    launcher = bin_dir / "python-launcher"
    try:
        return _start_to_exec(launcher, hello, work, snap, runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _start_to_exec(
    launcher: Path, hello: Path, work: Path, snap: Path, runs: int
) -> dict[str, dict[str, float]]:
    return hyperfine_ms(
        {
            "hello": str(hello),
            "tini": f"tini -s -- {hello}",
            "dumb-init": f"dumb-init {hello}",
            "python-launcher": f"{launcher} --log-level error --workdir {work} run --code file://{snap} "
            f"--python {hello} x.py",
        },
        runs,
    )


def make_archive(work: Path, mb: int) -> bytes:
    src = work / "src"
    src.mkdir()
    for i in range(mb):
        (src / f"blob{i}.bin").write_bytes(os.urandom(1 << 20))  # incompressible, like wheels
    (src / "main.py").write_text("print('hi')\n")
    archive = work / "snap.tar.gz"
    subprocess.run(["tar", "-C", str(src), "-czf", str(archive), "."], check=True)
    shutil.rmtree(src)
    return archive.read_bytes()


def fetch_vs_curl(bin_dir: Path, work: Path, mb: int) -> dict[str, object]:
    ca = TestCA(work / "ca")
    server = HttpsServer(ca.issue_server("bench", ["127.0.0.1"]))
    try:
        data = make_archive(work, mb)
        digest = sha256(data)
        url = server.route("/snap.tar.gz", Reply(200, data))
        cache = work / "cache"
        fetch = [
            str(bin_dir / "python-launcher"),
            "--log-level",
            "error",
            "--workdir",
            str(work),
            "fetch",
            "--cache",
            str(cache),
            "--cacert",
            str(ca.cert),
            "--code",
            url,
            "--code-sha256",
            digest,
        ]
        t0 = time.monotonic()
        subprocess.run(fetch, check=True, capture_output=True)
        launcher_s = time.monotonic() - t0
        out = work / "curl-out"
        out.mkdir()
        shell = (
            f"curl -sSf --cacert {ca.cert} {url} | tee {work}/dl.tar.gz | sha256sum && "
            f"tar -C {out} -xzf {work}/dl.tar.gz"
        )
        t0 = time.monotonic()
        subprocess.run(["bash", "-o", "pipefail", "-c", shell], check=True, capture_output=True)
        curl_s = time.monotonic() - t0
        hits = server.hits["/snap.tar.gz"]
        subprocess.run(fetch, check=True, capture_output=True)
        return {
            "snapshot_mb": round(len(data) / 1e6, 1),
            "launcher_fetch_verify_unpack_s": round(launcher_s, 3),
            "curl_sha256sum_tar_s": round(curl_s, 3),
            "speedup": round(curl_s / launcher_s, 2),
            "cache_hit_requests": server.hits["/snap.tar.gz"] - hits,
        }
    finally:
        server.close()


def image_size() -> int | None:
    lock = REPO / "build" / "images.lock.json"
    if not lock.exists():
        return None
    entry = json.loads(lock.read_text()).get("images", {}).get("python-launcher")
    if not entry:
        return None
    ref = entry["id"]
    out = subprocess.run(
        ["docker", "image", "inspect", "-f", "{{.Size}}", ref],
        capture_output=True,
        text=True,
        check=False,
    )
    return int(out.stdout) if out.returncode == 0 else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", type=Path, default=REPO / "build" / "bin")
    ap.add_argument("--hello", type=Path, default=REPO / "build" / "bench" / "hello")
    ap.add_argument("--mb", type=int, default=50)
    ap.add_argument("--runs", type=int, default=300)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="launcher-bench-"))
    try:
        report = {
            "start_to_exit_ms": start_to_exec(args.bin, args.hello, args.runs),
            "fetch": fetch_vs_curl(args.bin, work, args.mb),
            "image_bytes": image_size(),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
