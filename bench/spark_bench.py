"""spark-submit-runner benchmark: the shim's overhead over running spark-submit directly, side by
side in one run. Prints one JSON object (never asserted; the goal is under 50 ms).

    python bench/spark_bench.py [--bin build/bin] [--hello build/bench/hello] [--runs 200] [--spark-runs 1]

- overhead: start to exit of the shim with a static hello-world as its --spark-submit (read the
  spec, check it, build the command line, tap stderr, run and reap the child, merge the result
  file, print the result), against the same hello-world alone, with hyperfine: the difference
  is all the shim adds, measured where the JVM's noise cannot hide it;
- real: the same tiny local[1] PySpark job through pyspark's spark-submit directly and through
  the shim (wall time, --spark-runs each, alternating), to show the overhead beside a JVM start.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from python_launcher_bench import hyperfine_ms

REPO = Path(__file__).resolve().parents[1]
JOB = "from pyspark.sql import SparkSession\nSparkSession.builder.getOrCreate().range(3).count()\n"
LEAN_CONF = ["spark.ui.enabled=false", "spark.driver.host=127.0.0.1", "spark.driver.bindAddress=127.0.0.1"]


def overhead(shim: Path, hello: Path, work: Path, runs: int) -> dict[str, dict[str, float]]:
    spec = work / "job.json"
    job = {"application": str(work / "job.py"), "master": "local[1]", "conf": {"spark.ui.enabled": "false"}}
    spec.write_text(json.dumps(job))
    return hyperfine_ms(
        {
            "spark-submit (hello)": str(hello),
            "spark-submit-runner": f"{shim} --log-level error --workdir {work} submit {spec} "
            f"--spark-submit {hello}",
        },
        runs,
    )


def _wall(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.monotonic()
    subprocess.run(argv, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - start


def real(shim: Path, work: Path, runs: int) -> dict[str, object]:
    venv_bin = Path(sys.executable).parent
    env = {"PATH": f"{venv_bin}:/usr/bin:/bin", "SPARK_LOCAL_IP": "127.0.0.1", "HOME": str(work)}
    conf = [a for c in LEAN_CONF for a in ("--conf", c)]
    direct = [str(venv_bin / "spark-submit"), "--master", "local[1]", *conf, str(work / "job.py")]
    shimmed = [str(shim), "--workdir", str(work), "submit", "--application", str(work / "job.py"),
               "--master", "local[1]", *conf]
    times: dict[str, list[float]] = {"spark-submit": [], "spark-submit-runner": []}
    for _ in range(runs):
        times["spark-submit"].append(_wall(direct, env, work))
        times["spark-submit-runner"].append(_wall(shimmed, env, work))
    return {name: {"median_s": round(statistics.median(t), 3), "runs": len(t)} for name, t in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", type=Path, default=REPO / "build" / "bin")
    ap.add_argument("--hello", type=Path, default=REPO / "build" / "bench" / "hello")
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--spark-runs", type=int, default=1, help="real Spark jobs each way (0: skip)")
    args = ap.parse_args()
    shim = args.bin / "spark-submit-runner"
    work = Path(tempfile.mkdtemp(prefix="spark-bench-"))
    try:
        (work / "job.py").write_text(JOB)
        times = overhead(shim, args.hello, work, args.runs)
        shim_ms, bare_ms = times["spark-submit-runner"], times["spark-submit (hello)"]
        added = {k: round(shim_ms[k] - bare_ms[k], 3) for k in ("min", "median")}
        report: dict[str, object] = {"start_to_exit_ms": times, "overhead_ms": added, "goal_ms": 50}
        if args.spark_runs:
            report["local_job_wall"] = real(shim, work, args.spark_runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
