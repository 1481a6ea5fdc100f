#!/usr/bin/env python3
"""make demo: a small SQL pipeline through the postgres-runner image, against a throwaway PostgreSQL.

Steps (each one `docker run` of tinyrun/postgres-runner, read-only root, uid 65532):
  1. run   sql/01_schema.sql            create the tables
  2. copy  in  sales.csv                bulk-load the staging table
  3. run   sql/02_merge.sql -v day=...  merge one day in one transaction
  4. query ... -o /out/daily.csv        a report, written atomically to a mounted folder
The connection reaches the container as AIRFLOW_CONN_DEMO through an --env-file (never argv).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TOP / "bench"))
from urllib.parse import quote

import pgserver

DEMO = TOP / "tools" / "demo"
DAY = "2026-11-23"


def image() -> str:
    lock = json.loads((TOP / "build" / "images.lock.json").read_text())
    return lock["images"]["postgres-runner"]["image"]


def step(title: str, env_file: Path, out_dir: Path, *args: str) -> dict:
    print(f"\n== {title}\n$ postgres-runner {' '.join(args)}", flush=True)
    argv = ["docker", "run", "--rm", "--read-only", "--user", "65532:65532", "--network", "host",
            "--env-file", str(env_file), "-e", "TINYRUN_LOG_FORMAT=text",
            "-v", f"{DEMO}:/work:ro", "-v", f"{out_dir}:/out", image(), *args]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    sys.stderr.write(proc.stderr)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"result: {json.dumps(result)}")
    if proc.returncode != 0:
        sys.exit(f"demo: step failed with exit code {proc.returncode}")
    return result


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="tinyrun-demo-") as tmp:
        Path(tmp).chmod(0o755)  # the server runs as the postgres user
        server = pgserver.PgServer(Path(tmp) / "pg").start()
        try:
            env_file = Path(tmp) / "demo.env"
            uri = (f"postgres://{pgserver.ROLE}:{quote(pgserver.PASSWORD, safe='')}"
                   f"@{server.host}:{server.port}/{pgserver.DBNAME}")
            env_file.write_text(f"AIRFLOW_CONN_DEMO={uri}\n")
            env_file.chmod(0o600)
            out_dir = Path(tmp) / "out"
            out_dir.mkdir()
            os.chown(out_dir, 65532, 65532) if os.geteuid() == 0 else out_dir.chmod(0o777)
            step("create the tables", env_file, out_dir, "run", "--conn", "demo", "/work/sql/01_schema.sql")
            step("bulk-load the staging table", env_file, out_dir,
                 "copy", "in", "--conn", "demo", "--table", "staging_sales", "--header", "--file", "/work/sales.csv")
            step("merge one day, in one transaction", env_file, out_dir,
                 "run", "--conn", "demo", "-v", f"day={DAY}", "-v", "run=demo", "/work/sql/02_merge.sql")
            step("write the daily report", env_file, out_dir,
                 "query", "--conn", "demo", "--header", "-o", "/out/daily.csv", "-v", f"day={DAY}",
                 "SELECT store, sum(amount) AS total FROM sales WHERE sold_on = :'day' GROUP BY store ORDER BY store")
            print(f"\n== /out/daily.csv\n{(out_dir / 'daily.csv').read_text()}", end="")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
