"""DAG factory parse time: 1,000 pipeline files through tinyrun's loader vs astronomer's dag-factory.

Both sides describe the same 1,000 DAGs (5 DockerOperator tasks each: a preflight, a chain of
three SQL tasks and a report, same image, argv, environment, retries and schedule) in their own
YAML format, and each is loaded the way Airflow loads it: `DagBag(dags_folder)` over a folder with
one loader .py, in a fresh Python process where Airflow and the docker provider are already
imported (so both sides pay the same interpreter start-up and only the parse is timed).

Each run records wall time and the process's CPU time; the ratios use CPU time, which a busy
shared machine disturbs far less than wall time (the parse is single-threaded, so on an idle
machine both are the same). Prints one JSON object on one line of stdout (progress goes to stderr);
never asserts. Options:
    --pipelines N   (default 1000)    --repeat R (default 3; the best run counts)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

FAKE_ID = "sha256:" + "0" * 64
IMAGE = "tinyrun/postgres-runner:0.1.0"
TASKS = ("preflight", "stage", "transform", "publish", "report")

MEASURE = r"""
import json, os, sys, time, logging
logging.disable(logging.CRITICAL)
import airflow  # noqa: F401  (imported before the clock starts, for both contestants)
from airflow.providers.docker.operators.docker import DockerOperator  # noqa: F401
from airflow.dag_processing.dagbag import DagBag
import {warm}  # noqa: F401  the factory package itself (its import is not parse work)
t0, c0 = time.perf_counter(), time.process_time()
bag = DagBag(dag_folder=sys.argv[1])
elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
tasks = sum(len(d.tasks) for d in bag.dags.values())
print(json.dumps({{"wall_seconds": elapsed, "seconds": cpu, "dags": len(bag.dags), "tasks": tasks,
                  "import_errors": len(bag.import_errors)}}))
"""


def say(msg: str) -> None:
    print(f"[dagfactory-bench] {msg}", file=sys.stderr, flush=True)


def tinyrun_pipeline(i: int) -> str:
    return textwrap.dedent(f"""\
        pipeline: bench_{i:04d}
        description: benchmark pipeline {i}
        schedule: "@daily"
        start_date: 2024-01-01
        tags: [bench]
        tasks:
          - id: preflight
            runner: postgres
            check: true
          - id: stage
            runner: postgres
            depends_on: [preflight]
            run: [stage.sql]
            vars: {{day: "{{{{ ds }}}}"}}
          - id: transform
            runner: postgres
            depends_on: [stage]
            sql: "INSERT INTO facts_{i} SELECT * FROM stage_{i}"
          - id: publish
            runner: postgres
            depends_on: [transform]
            sql: "REFRESH MATERIALIZED VIEW mv_{i}"
          - id: report
            runner: postgres
            depends_on: [publish]
            query: {{sql: "SELECT count(*) FROM facts_{i}", format: csv}}
        """)


def dagfactory_pipeline(i: int) -> str:
    """The same DAG in dag-factory's format: what tinyrun's factory produces, spelled out."""
    env = {
        "TINYRUN_DAG_ID": "{{ ti.dag_id }}",
        "TINYRUN_TASK_ID": "{{ ti.task_id }}",
        "TINYRUN_RUN_ID": "{{ run_id }}",
        "TINYRUN_TRY_NUMBER": "{{ ti.try_number }}",
        "TINYRUN_MAP_INDEX": "{{ ti.map_index }}",
    }
    commands = {
        "preflight": ["check", "--conn", "warehouse"],
        "stage": ["run", "--conn", "warehouse", "-v", "day={{ ds }}", "/sql/stage.sql"],
        "transform": [
            "run",
            "--conn",
            "warehouse",
            "-c",
            f"INSERT INTO facts_{i} SELECT * FROM stage_{i}",
        ],
        "publish": [
            "run",
            "--conn",
            "warehouse",
            "-c",
            f"REFRESH MATERIALIZED VIEW mv_{i}",
        ],
        "report": [
            "query",
            "--conn",
            "warehouse",
            "--format",
            "csv",
            f"SELECT count(*) FROM facts_{i}",
        ],
    }
    tasks = []
    for n, task in enumerate(TASKS):
        conf = {
            "task_id": task,
            "operator": "airflow.providers.docker.operators.docker.DockerOperator",
            "image": IMAGE,
            "command": commands[task],
            "environment": dict(env),
            "user": "65532:65532",
            "auto_remove": "success",
            "mount_tmp_dir": False,
            "skip_on_exit_code": [99],
        }
        if n:
            conf["dependencies"] = [TASKS[n - 1]]
        tasks.append(conf)
    doc = {
        f"bench_{i:04d}": {
            "default_args": {
                "owner": "bench",
                "start_date": "2024-01-01",
                "retries": 2,
                "retry_delay_sec": 60,
                "execution_timeout_secs": 3600,
            },
            "description": f"benchmark pipeline {i}",
            "schedule": "@daily",
            "catchup": False,
            "tags": ["bench"],
            "tasks": tasks,
        }
    }
    import yaml

    return yaml.safe_dump(doc, sort_keys=False)


def write_tinyrun(root: Path, n: int) -> Path:
    kit = root / "tinyrun"
    (kit / "sql").mkdir(parents=True)
    (kit / "sql" / "stage.sql").write_text("SELECT 1;\n")
    (kit / "dags").mkdir()
    (kit / "runners.lock").write_text(
        json.dumps(
            {
                "version": "0.1.0",
                "images": {"postgres-runner": {"image": IMAGE, "tag": "0.1.0", "id": FAKE_ID}},
            }
        )
    )
    (kit / "pipelines" / "bench").mkdir(parents=True)
    (kit / "pipelines" / "defaults.yaml").write_text("owner: bench\ndefaults: {conn: warehouse}\n")
    for i in range(n):
        (kit / "pipelines" / "bench" / f"p{i:04d}.yaml").write_text(tinyrun_pipeline(i))
    (kit / "dags" / "pipelines.py").write_text(
        '"""airflow dag loader"""\nfrom tinyrun_dagfactory import load_dags\n\nload_dags(globals())\n'
    )
    return kit / "dags"


def write_dagfactory(root: Path, n: int) -> Path:
    kit = root / "dagfactory"
    (kit / "configs").mkdir(parents=True)
    (kit / "dags").mkdir()
    for i in range(n):
        (kit / "configs" / f"p{i:04d}.yml").write_text(dagfactory_pipeline(i))
    (kit / "dags" / "pipelines.py").write_text(
        '"""airflow dag loader"""\nimport dagfactory\n\n'
        f"dagfactory.load_yaml_dags(globals_dict=globals(), dags_folder={str(kit / 'configs')!r}, "
        f"defaults_config_path={str(kit / 'configs')!r})\n"
    )
    return kit / "dags"


def write_plain(root: Path, n: int) -> Path:
    """The floor: the same DAGs written directly in Python (no YAML, no factory)."""
    kit = root / "plain"
    (kit / "dags").mkdir(parents=True)
    (kit / "dags" / "pipelines.py").write_text(
        textwrap.dedent(f'''\
        """airflow dag file: the same DAGs as the YAML contestants, written by hand in a loop"""
        from datetime import datetime, timedelta, timezone
        from airflow.providers.docker.operators.docker import DockerOperator
        try:
            from airflow.sdk import DAG
        except ImportError:
            from airflow import DAG

        ENV = {{"TINYRUN_DAG_ID": "{{{{ ti.dag_id }}}}", "TINYRUN_TASK_ID": "{{{{ ti.task_id }}}}",
               "TINYRUN_RUN_ID": "{{{{ run_id }}}}", "TINYRUN_TRY_NUMBER": "{{{{ ti.try_number }}}}",
               "TINYRUN_MAP_INDEX": "{{{{ ti.map_index }}}}"}}
        for i in range({n}):
            commands = {{
                "preflight": ["check", "--conn", "warehouse"],
                "stage": ["run", "--conn", "warehouse", "-v", "day={{{{ ds }}}}", "/sql/stage.sql"],
                "transform": ["run", "--conn", "warehouse", "-c", f"INSERT INTO facts_{{i}} SELECT * FROM stage_{{i}}"],
                "publish": ["run", "--conn", "warehouse", "-c", f"REFRESH MATERIALIZED VIEW mv_{{i}}"],
                "report": ["query", "--conn", "warehouse", "--format", "csv", f"SELECT count(*) FROM facts_{{i}}"],
            }}
            dag = DAG(dag_id=f"bench_{{i:04d}}", description=f"benchmark pipeline {{i}}", schedule="@daily",
                      start_date=datetime(2024, 1, 1, tzinfo=timezone.utc), catchup=False, tags=["bench"],
                      default_args={{"owner": "bench"}})
            prev = None
            for task_id, command in commands.items():
                op = DockerOperator(task_id=task_id, dag=dag, image="{IMAGE}", command=command,
                                    environment=dict(ENV), user="65532:65532", auto_remove="success",
                                    mount_tmp_dir=False, skip_on_exit_code=[99], retries=2,
                                    retry_delay=timedelta(seconds=60), execution_timeout=timedelta(seconds=3600))
                if prev is not None:
                    prev >> op
                prev = op
            globals()[dag.dag_id] = dag
        ''')
    )
    return kit / "dags"


def measure(dags: Path, warm: str, home: Path) -> dict:
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "3600",
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        # dag-factory's usage telemetry off (it only reports DAG runs, but keep the bench offline)
        "AIRFLOW__DAG_FACTORY__ENABLE_TELEMETRY": "False",
        "DO_NOT_TRACK": "1",
    }
    env.pop("TINYRUN_IMAGES_LOCK", None)
    proc = subprocess.run(
        [sys.executable, "-c", MEASURE.format(warm=warm), str(dags)],
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{warm}: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pipelines", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from importlib.metadata import version

    with tempfile.TemporaryDirectory(prefix="tinyrun-dfbench-") as tmp:
        root = Path(tmp)
        home = root / "home"
        home.mkdir()
        say(f"writing {args.pipelines} pipelines in each format")
        sides = {
            "tinyrun": (write_tinyrun(root, args.pipelines), "tinyrun_dagfactory"),
            "dag_factory": (write_dagfactory(root, args.pipelines), "dagfactory"),
            "plain_python": (write_plain(root, args.pipelines), "json"),
        }
        results: dict[str, dict] = {}
        for name, (dags, warm) in sides.items():
            runs = []
            for r in range(args.repeat):
                runs.append(measure(dags, warm, home))
                say(
                    f"{name} run {r + 1}: {runs[-1]['seconds']:.2f}s CPU ({runs[-1]['wall_seconds']:.2f}s wall), "
                    f"{runs[-1]['dags']} DAGs, {runs[-1]['import_errors']} import errors"
                )
            best = min(runs, key=lambda x: x["seconds"])
            results[name] = {
                **best,
                "runs_seconds": [round(x["seconds"], 3) for x in runs],
                "runs_wall_seconds": [round(x["wall_seconds"], 3) for x in runs],
                "ms_per_pipeline": round(best["seconds"] * 1000 / args.pipelines, 3),
            }
    t, d, floor = results["tinyrun"], results["dag_factory"], results["plain_python"]
    out = {
        "dagfactory": {
            "pipelines": args.pipelines,
            "tasks_per_pipeline": len(TASKS),
            "airflow": version("apache-airflow"),
            "dag_factory_version": version("dag-factory"),
            "tinyrun_loader": t,
            "astronomer_dag_factory": d,
            "plain_python_floor": floor,
            "seconds_are": "CPU time of the parsing process (best run)",
            "speedup": round(d["seconds"] / t["seconds"], 2) if t["seconds"] else None,
            "vs_floor": round(t["seconds"] / floor["seconds"], 2) if floor["seconds"] else None,
            # what each factory adds on top of Airflow building the same DAGs from plain Python
            "factory_overhead_ms_per_pipeline": {
                "tinyrun": round((t["seconds"] - floor["seconds"]) * 1000 / args.pipelines, 3),
                "dag_factory": round((d["seconds"] - floor["seconds"]) * 1000 / args.pipelines, 3),
            },
            "goal": ">= 6x faster than dag-factory and <= 1.3x the plain-Python floor",
            "goal_met": bool(
                t["seconds"] and d["seconds"] / t["seconds"] >= 6 and t["seconds"] <= 1.3 * floor["seconds"]
            ),
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
    }
    print(json.dumps(out))  # one line: the bench driver reads the last line
    return 0


if __name__ == "__main__":
    sys.exit(main())
