"""ticket-sharer benchmark: idle RSS and CPU over a minute, and the delay from a source change to
the new ticket being published. Prints one JSON object (never asserted anywhere).

    python bench/ticket_sharer_bench.py [--bin build/bin/ticket-sharer] [--idle 60] [--changes 30]

It starts its own MIT KDC on loopback (tests/harness), gets real tickets, runs
`ticket-sharer share` on a folder, and compares with what people use instead: a shell loop that
copies the cache every interval (`while :; do cp ...; sleep 300; done`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from harness.kdc import Kdc

PASSWORD = "bench-Secret-1"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def wait_for(probe: Callable[[], bool], timeout: float = 10.0, interval: float = 0.0002) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise TimeoutError("timed out")
        time.sleep(interval)


def idle(pid: int, seconds: float) -> dict:
    rss0, cpu0, t0 = rss_kb(pid), cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    cpu1, t1 = cpu_seconds(pid), time.monotonic()
    return {
        "idle_seconds": round(t1 - t0, 1),
        "rss_kb": rss_kb(pid),
        "rss_kb_at_start": rss0,
        "cpu_ms": round((cpu1 - cpu0) * 1000, 1),
        "cpu_percent": round((cpu1 - cpu0) / (t1 - t0) * 100, 4),
    }


def delays(src: Path, target: Path, caches: list[bytes], n: int) -> dict:
    out = []
    for i in range(n):
        ino = target.stat().st_ino
        tmp = src.parent / ".bench.new"
        tmp.write_bytes(caches[(i + 1) % 2])
        began = time.monotonic()
        tmp.rename(src)
        wait_for(lambda ino=ino: target.stat().st_ino != ino)
        out.append((time.monotonic() - began) * 1000)
        time.sleep(0.05)
    out.sort()
    return {
        "changes": n,
        "median_ms": round(statistics.median(out), 2),
        "p95_ms": round(out[int(len(out) * 0.95) - 1], 2),
        "max_ms": round(out[-1], 2),
    }


def run_sharer(binary: Path, env: dict, src: Path, target: Path, settle: str) -> subprocess.Popen:
    proc = subprocess.Popen([str(binary), "--log-level", "warn", "share", "--source", str(src),
                             "--target", str(target), "--settle", settle],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(target.exists)
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", type=Path, default=REPO / "build" / "bin" / "ticket-sharer")
    ap.add_argument("--idle", type=float, default=60.0, help="seconds of idle measurement")
    ap.add_argument("--changes", type=int, default=30, help="source changes to time")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="tinyrun-bench-sharer-"))
    kdc = Kdc(work / "kdc")
    kdc.start()
    try:
        user = kdc.add_principal("bench", PASSWORD)
        src_dir, dst_dir = work / "host", work / "cache"
        src_dir.mkdir()
        dst_dir.mkdir()
        caches = []
        for name in ("a", "b"):
            kdc.kinit(user, work / name, password=PASSWORD, lifetime="10h")
            caches.append((work / name).read_bytes())
            time.sleep(1.1)  # distinct ticket times
        src, target = src_dir / "krb5cc", dst_dir / "krb5cc"
        src.write_bytes(caches[0])
        env = {"PATH": "/usr/bin:/bin", "KRB5_CONFIG": str(kdc.krb5_conf)}

        result: dict = {"binary": str(args.bin), "binary_bytes": args.bin.stat().st_size}
        proc = run_sharer(args.bin, env, src, target, "100ms")
        try:
            result["idle"] = idle(proc.pid, args.idle)
            result["publish_delay_default_settle_100ms"] = delays(src, target, caches, args.changes)
        finally:
            stop(proc)
        proc = run_sharer(args.bin, env, src, target, "0")
        try:
            result["publish_delay_settle_0"] = delays(src, target, caches, args.changes)
        finally:
            stop(proc)

        # the alternative: a shell loop copying the cache every 300 s (delay: up to 300 s)
        sh = subprocess.Popen(["sh", "-c", f"while :; do cp {src} {dst_dir}/copy; sleep 300; done"])
        time.sleep(1)
        result["shell_loop"] = {"rss_kb": rss_kb(sh.pid), "worst_delay_s": 300,
                                "atomic": False, "validated": False}
        sh.terminate()
        sh.wait()
        print(json.dumps(result, indent=None))
    finally:
        kdc.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
