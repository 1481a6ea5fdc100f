"""sqlserver-runner benchmark against the TDS test server, side by side in one run. Prints one JSON
object (never asserted).

    python bench/sqlserver_bench.py [--bin build/bin] [--version 0.1.0] [--rows 1000000]

The TDS server (tests/tds, Python) in front of a throwaway PostgreSQL (bench/pgserver.py) is the
bottleneck for every client, so wall time says little about the clients; what is compared is
each client's own CPU time (user + system, from GNU time):

- copy in of --rows rows of TSV with TDS bulk load: sqlserver-runner copy in vs freebcp -c (both
  FreeTDS db-lib bcp; freebcp is Debian's freetds-bin), CPU seconds per 1M rows (goal: no more
  than freebcp), plus a check in PostgreSQL that every row landed;
- start-up: `sqlserver-runner --version` vs `tsql -C` (hyperfine), and connect + SELECT 1 +
  exit: `sqlserver-runner query` vs `tsql` reading the batch from stdin (min and median of
  --runs runs, timed from Python);
- peak RSS while streaming --rows rows with `query` as CSV and NDJSON (goal under 10 MB);
- the size of the tinyrun/sqlserver-runner image when `make images` built it (goal under 8 MB).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from tds.server import TdsServer

from measure import Run, count_lines, hyperfine, run_measured
from pgserver import DBNAME, PASSWORD, ROLE, PgServer

MB = 1_000_000
BATCH = "10000"


class Bench:
    """The servers and the environment both contestants use."""

    def __init__(self, tmp: Path, bin_dir: Path) -> None:
        self.tmp = tmp
        self.runner = str(bin_dir / "sqlserver-runner")
        self.pg = PgServer(tmp / "pg").start()
        self.tds = TdsServer(
            self.pg.host, self.pg.port, self.pg.socket_dir, default_database=DBNAME
        ).start()
        conf = tmp / "freetds.conf"
        conf.write_text(
            f"[tdsbench]\n\thost = 127.0.0.1\n\tport = {self.tds.port}\n"
            "\ttds version = 7.4\n\tencryption = off\n\tclient charset = UTF-8\n"
        )
        uri = f"mssql://{ROLE}:{PASSWORD}@127.0.0.1:{self.tds.port}/{DBNAME}?encrypt=off"
        base = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
        self.runner_env = base | {"AIRFLOW_CONN_MSSQL": uri, "TINYRUN_LOG_FORMAT": "json"}
        self.freetds_env = base | {"FREETDSCONF": str(conf)}
        self.login = ["-S", "tdsbench", "-U", ROLE, "-P", PASSWORD]

    def sql(self, text: str) -> str:
        """Run TEXT in the bench database as the bench role (so the TDS login may use it)."""
        return self.pg.psql(f"SET ROLE {ROLE};\n{text}")

    def stop(self) -> None:
        self.tds.stop()
        self.pg.stop()


def cpu(run: Run) -> float:
    return run.user_seconds + run.system_seconds


def copy_in(b: Bench, rows: int) -> dict[str, Any]:
    data = b.tmp / "rows.tsv"
    with open(data, "w") as f:
        f.writelines(f"{i}\tname {i}\t{i % 100000}.{i % 100:02d}\n" for i in range(1, rows + 1))
    commands = {
        "runner": [b.runner, "copy", "--conn", "mssql", "--table", "t_runner", "--format",
                   "tsv", "--batch-size", BATCH, "-f", str(data), "in"],
        "freebcp": ["freebcp", "t_freebcp", "in", str(data), *b.login, "-D", DBNAME, "-c",
                    "-b", BATCH],
    }  # fmt: skip
    out: dict[str, Any] = {"rows": rows, "batch_size": int(BATCH)}
    for name, argv in commands.items():
        table = f"t_{name}"
        b.sql(f"CREATE TABLE {table} (id int, name text, amount numeric(12,2))")
        env = b.runner_env if name == "runner" else b.freetds_env
        run = run_measured(argv, env)
        landed = b.sql(f"SELECT count(*), sum(id) FROM {table}")
        out[name] = run.as_json() | {
            "cpu_seconds": round(cpu(run), 3),
            "cpu_seconds_per_1m_rows": round(cpu(run) * 1_000_000 / rows, 3),
            "rows_per_second_wall": round(rows / run.seconds),
            "landed_count_sum": landed,
        }
    out["cpu_ratio_runner_to_freebcp"] = round(
        out["runner"]["cpu_seconds"] / max(out["freebcp"]["cpu_seconds"], 1e-9), 3
    )
    return out


def timed(argv: list[str], env: dict[str, str], stdin: str, runs: int) -> dict[str, float]:
    """Min and median wall time in ms of RUNS runs (each must succeed)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, env=env, input=stdin, capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - start)
    return {
        "min_ms": round(min(times) * 1000, 2),
        "median_ms": round(statistics.median(times) * 1000, 2),
    }


def startup(b: Bench, runs: int) -> dict[str, Any]:
    tsql_select = ["tsql", *b.login, "-D", DBNAME]
    return {
        # no server: hyperfine runs them without a shell; tsql -C prints its build settings
        "version": hyperfine(
            {"runner": [b.runner, "--version"], "tsql": ["tsql", "-C"]}, b.freetds_env
        ),
        "select1": {
            "runner": timed(
                [b.runner, "query", "--conn", "mssql", "SELECT 1"], b.runner_env, "", runs
            ),
            "tsql": timed(tsql_select, b.freetds_env, "SELECT 1\ngo\nexit\n", runs),
        },
    }


def stream(b: Bench, rows: int) -> dict[str, Any]:
    b.sql(
        "CREATE TABLE big AS SELECT i AS id, 'name ' || i AS name FROM generate_series(1, "
        f"{rows}) i"
    )
    out: dict[str, Any] = {"rows": rows, "goal_peak_rss_mb": 10}
    for fmt in ("csv", "ndjson"):
        target = b.tmp / f"big.{fmt}"
        argv = [b.runner, "query", "--conn", "mssql", "--format", fmt, "-o", str(target),
                "SELECT id, name FROM big"]  # fmt: skip
        run = run_measured(argv, b.runner_env)
        out[f"runner_{fmt}"] = run.as_json() | {
            "peak_rss_mb": round(run.max_rss_kib * 1024 / MB, 2),
            "lines": count_lines(target),
        }
        target.unlink()
    return out


def image(version: str) -> dict[str, Any]:
    tag = f"tinyrun/sqlserver-runner:{version}"
    proc = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Size}}", tag],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        return {"tag": tag, "size_mb": None, "note": "not built (make images)"}
    return {"tag": tag, "size_mb": round(int(proc.stdout) / MB, 2), "goal_mb": 8}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--bin", type=Path, default=REPO / "build" / "bin")
    p.add_argument("--version", default=(REPO / "VERSION").read_text().strip())
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--runs", type=int, default=20)
    return p.parse_args()


def main() -> int:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="tinyrun-sqlserver-bench-") as tmp:
        folder = Path(tmp)
        os.chmod(folder, 0o755)
        b = Bench(folder, args.bin)
        try:
            result = {
                "copy_in": copy_in(b, args.rows),
                "startup": startup(b, args.runs),
                "stream": stream(b, args.rows),
                "image": image(args.version),
            }
        finally:
            b.stop()
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
