"""model-deployer plan vs migra: the time to find what changed on 3 PostgreSQL targets.

200 tables x 14 columns + 1 index each (bronze mixin included) are deployed to three databases
(v1), then every table gains a column in the models (v2). Contestants, one run each, same server:
- model-deployer plan --models v2 --targets t1,t2,t3 (reads each catalog, diffs, prints the DDL;
  targets in parallel processes);
- migra, once per target, diffing it against a reference database that holds v2 (what a team
  would do with a schema-diff tool: keep a database of the desired schema).
Both connect over the server's unix socket. Also the model-deployer image size. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pgserver import PgServer

REPO = Path(__file__).resolve().parents[1]
TARGETS = ("t1", "t2", "t3")


def models(tables: int, extra_column: bool) -> str:
    out = ["tables:"]
    for i in range(tables):
        out += [
            "  - schema: bench",
            f"    table: t{i:03d}",
            "    mixins: [bronze]",
            "    primary_key: [id]",
            "    columns:",
            "      - {name: id, type: bigint}",
        ]
        out += [
            f"      - {{name: c{j}, type: {'varchar(40)' if j % 2 else 'int'}}}" for j in range(10)
        ]
        if extra_column:
            out.append("      - {name: added, type: text}")
        out.append("    indexes: [{columns: [c0]}]")
    return "\n".join(out) + "\n"


def conn_json(pg: PgServer, db: str) -> str:
    return json.dumps(
        {
            "conn_type": "postgres",
            "host": str(pg.socket_dir),
            "port": pg.port,
            "login": "postgres",
            "schema": db,
        }
    )


def deployer(
    binary: Path, pg: PgServer, mode: str, model_file: Path, targets: tuple[str, ...]
) -> float:
    env = {"PATH": "/usr/bin:/bin"} | {
        f"AIRFLOW_CONN_{t.upper()}": conn_json(pg, t) for t in targets
    }
    argv = [
        str(binary),
        "--log-format",
        "json",
        mode,
        "--models",
        str(model_file),
        "--targets",
        ",".join(targets),
    ]
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(
            f"model-deployer {mode} failed ({proc.returncode}): {proc.stderr[-2000:]}"
        )
    return took


def migra_venv(work: Path) -> Path:
    venv = REPO / "build" / "bench-migra-venv"
    stamp = venv / ".stamp"
    reqs = REPO / "bench" / "migra-requirements.txt"
    if not stamp.exists() or stamp.read_text() != reqs.read_text():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [
                str(venv / "bin" / "pip"),
                "install",
                "-q",
                "--disable-pip-version-check",
                "-r",
                str(reqs),
            ],
            check=True,
        )
        stamp.write_text(reqs.read_text())
    return venv / "bin" / "migra"


def migra_all(migra: Path, pg: PgServer) -> float:
    def url(db: str) -> str:
        return f"postgresql://postgres@/{db}?host={pg.socket_dir}&port={pg.port}"

    start = time.perf_counter()
    for t in TARGETS:
        proc = subprocess.run(
            [str(migra), "--unsafe", url(t), url("ref")],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode not in (0, 2) or "add column" not in proc.stdout:  # 2: differences found
            raise RuntimeError(f"migra failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return time.perf_counter() - start


def image_size() -> int | None:
    lock = REPO / "build" / "images.lock.json"
    entry = (
        json.loads(lock.read_text()).get("images", {}).get("model-deployer")
        if lock.exists()
        else None
    )
    if not entry:
        return None
    out = subprocess.run(
        ["docker", "image", "inspect", "-f", "{{.Size}}", entry["id"]],
        capture_output=True,
        text=True,
        check=False,
    )
    return int(out.stdout) if out.returncode == 0 else None


def run(binary: Path, tables: int, work: Path) -> dict[str, object]:
    v1, v2 = work / "v1.yml", work / "v2.yml"
    v1.write_text(models(tables, False))
    v2.write_text(models(tables, True))
    pg = PgServer(work / "pg").start()
    try:
        for db in (*TARGETS, "ref"):
            pg.psql(f"CREATE DATABASE {db}", dbname="postgres")
        deployer(binary, pg, "apply", v1, TARGETS)
        deployer(binary, pg, "apply", v2, ("ref",))
        migra = migra_venv(work)
        ours = deployer(binary, pg, "plan", v2, TARGETS)
        theirs = migra_all(migra, pg)
    finally:
        pg.stop()
    return {
        "tables": tables,
        "targets": len(TARGETS),
        "model_deployer_plan_s": round(ours, 3),
        "migra_s": round(theirs, 3),
        "speedup": round(theirs / ours, 1),
        "goal": ">= 5x faster than migra",
        "image_bytes": image_size(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", type=Path, default=REPO / "build" / "bin")
    ap.add_argument("--tables", type=int, default=200)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="model-deployer-bench-"))
    work.chmod(0o755)
    try:
        report = run(args.bin / "model-deployer", args.tables, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({"model_deployer": report}, indent=2))


if __name__ == "__main__":
    main()
