"""dbt-runner benchmark: the shim's overhead over running the same dbt command directly, side by
side in one run. Prints one JSON object (never asserted; the goal is under 50 ms).

    python bench/dbt_bench.py [--bin build/bin] [--hello build/bench/hello] [--dbt build/venv-dbt/bin/dbt] [--runs 5]

- the shim alone: `dbt-runner debug --dbt HELLO` (connection -> profiles.yml in a private folder,
  the child, the result line, the folder removed) against HELLO itself, with hyperfine: the
  difference is everything the shim adds;
- the same real dbt command both ways against a throwaway PostgreSQL (bench/pgserver.py): `dbt
  seed` of the test project through dbt-runner, and directly with a hand-written profiles.yml and
  the same flags and environment (each run with a fresh target/, as in a new container). dbt's
  own start-up (seconds) dwarfs the shim, so the median of --runs alternating runs is reported
  next to the difference, which on a busy machine is mostly noise.
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

from pgserver import DBNAME, PASSWORD, ROLE, PgServer
from python_launcher_bench import hyperfine_ms

REPO = Path(__file__).resolve().parents[1]
PROJECT = REPO / "tests" / "dbt" / "project"
PROFILE = """\
tinyrun:
  target: dev
  outputs:
    dev:
      type: postgres
      threads: 1
      host: "127.0.0.1"
      port: {port}
      dbname: "{db}"
      schema: "public"
      user: "{user}"
      password: "{{{{ env_var('DBT_ENV_SECRET_PASSWORD') }}}}"
"""


def shim_alone(runner: Path, hello: Path, work: Path, runs: int) -> dict[str, dict[str, float]]:
    (work / "project").mkdir()
    (work / "project" / "dbt_project.yml").write_text("name: x\n")
    os.environ["AIRFLOW_CONN_BENCH"] = f"postgres://{ROLE}:{PASSWORD}@127.0.0.1:5432/{DBNAME}"
    shim = f"{runner} --workdir {work} debug --conn bench --project-dir {work / 'project'} --dbt {hello}"
    return hyperfine_ms({"hello": str(hello), "dbt-runner --dbt hello": shim}, runs)


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.monotonic()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    took = (time.monotonic() - start) * 1000
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return took


def real_dbt(runner: Path, dbt: Path, work: Path, server: PgServer, runs: int) -> dict[str, float]:
    """`dbt seed` through dbt-runner and directly, alternating, RUNS times each."""
    profiles = work / "profiles"
    profiles.mkdir()
    (profiles / "profiles.yml").write_text(PROFILE.format(port=server.port, db=DBNAME, user=ROLE))
    base = {"PATH": "/usr/local/bin:/usr/bin:/bin", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    runner_env = base | {"AIRFLOW_CONN_BENCH": f"postgres://{ROLE}:{PASSWORD}@127.0.0.1:{server.port}/{DBNAME}"}
    direct_env = base | {
        "DBT_ENV_SECRET_PASSWORD": PASSWORD,
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
    }
    shim = [str(runner), "--workdir", str(work), "seed", "--conn", "bench", "--project-dir", str(PROJECT)]
    shim += ["--dbt", str(dbt)]
    direct = [str(dbt), "seed", "--log-format", "json", "--profiles-dir", str(profiles), "--project-dir", str(PROJECT)]
    direct += ["--profile", "tinyrun", "--target", "dev"]
    through, alone = [], []
    timed(direct, direct_env)  # warm the page cache
    for i in range(runs):
        shutil.rmtree(work / "target", ignore_errors=True)  # fresh, as in a new container: no partial parse
        # alternate who goes first, so a drift in the machine's load hits both alike
        if i % 2:
            alone.append(timed(direct, direct_env))
            through.append(timed(shim, runner_env))
        else:
            through.append(timed(shim, runner_env))
            alone.append(timed(direct, direct_env))
    med_through, med_alone = statistics.median(through), statistics.median(alone)
    return {
        "dbt_seed_direct_median_ms": round(med_alone, 1),
        "dbt_seed_through_dbt_runner_median_ms": round(med_through, 1),
        "difference_ms": round(med_through - med_alone, 1),
        "runs": runs,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", type=Path, default=REPO / "build" / "bin")
    ap.add_argument("--hello", type=Path, default=REPO / "build" / "bench" / "hello")
    ap.add_argument("--dbt", type=Path, default=REPO / "build" / "venv-dbt" / "bin" / "dbt")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    runner = args.bin / "dbt-runner"
    shm = Path("/dev/shm")
    work = Path(tempfile.mkdtemp(prefix="dbt-bench-", dir=shm if shm.is_dir() else None))
    work.chmod(0o755)  # the server runs as the postgres user
    server = PgServer(work / "pg")
    try:
        alone = shim_alone(runner, args.hello, work, 200)
        shim_ms = alone["dbt-runner --dbt hello"]["median"] - alone["hello"]["median"]
        server.start()
        real = real_dbt(runner, args.dbt, work, server, args.runs)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    out = {
        "dbt_runner": {
            "shim_alone_ms": alone,
            "shim_overhead_median_ms": round(shim_ms, 3),
            "same_dbt_command": real,
            "goal_ms": 50,
        }
    }
    json.dump(out, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
