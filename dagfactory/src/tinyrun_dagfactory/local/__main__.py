"""python -m tinyrun_dagfactory.local up|down|run|demo-db: what the datakit's Makefile calls.

up       check the inputs, start (or find running) api-server, scheduler, dag-processor and triggerer,
         wait until healthy and the pipelines are parsed, print the UI address and the login
down     stop every process of this datakit's Airflow and the demo database, remove the pipelines'
         runner containers; the metadata (.airflow/airflow.db) stays
run P    trigger pipeline P, follow it, print each task's state and result; exit 1 when it failed
demo-db  start the throwaway PostgreSQL the example pipeline uses
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import time
from typing import Any

from ..errors import PipelineFileError
from ..spec import PipelineSpec
from . import demodb, preflight, processes
from .api import Airflow, ApiError
from .layout import COMPONENTS, DEFAULT_PORT, USER, Kit, LocalError, kit_at
from .runs import run_pipeline

HEALTH_KEYS = ("metadatabase", "scheduler", "triggerer", "dag_processor")
START_TIMEOUT_S = float(os.environ.get("AIRFLOW_START_TIMEOUT", "300"))
PARSE_WAIT_S = 120.0


def _say(line: str) -> None:
    print(line, flush=True)


def _valid_pipelines(kit: Kit) -> list[PipelineSpec]:
    """The pipelines that parse (a broken file shows up in Airflow as an import error instead)."""
    out = []
    for spec_or_error in _parse_each(kit):
        if isinstance(spec_or_error, PipelineSpec):
            out.append(spec_or_error)
    return out


def _parse_each(kit: Kit) -> list[PipelineSpec | Exception]:
    from ..pipelines import DefaultsCache, parse_file, pipeline_files

    cache = DefaultsCache()
    out: list[PipelineSpec | Exception] = []
    for path in pipeline_files([kit.root / "pipelines"]):
        try:
            out.append(parse_file(path, root=kit.root, cache=cache))
        except (PipelineFileError, OSError, ValueError) as exc:
            out.append(exc)
    return out


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _wait_healthy(kit: Kit, api: Airflow, pids: dict[str, int]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    last: dict[str, Any] = {}
    while time.monotonic() < deadline:
        dead = [name for name, pid in pids.items() if name not in processes.running(kit)]
        if dead:
            tails = "\n".join(f"--- {n} (.airflow/run/{n}.log)\n{processes.log_tail(kit, n)}" for n in dead)
            raise LocalError(f"{', '.join(dead)} stopped while starting:\n{tails}", status=1)
        with contextlib.suppress(OSError, ApiError, ValueError):
            last = api.health()
            if all((last.get(k) or {}).get("status") == "healthy" for k in HEALTH_KEYS):
                return
        time.sleep(2)
    raise LocalError(f"Airflow did not become healthy within {START_TIMEOUT_S:.0f} s (health: {last})", status=1)


def _wait_parsed(api: Airflow, wanted: set[str]) -> tuple[list[str], list[dict[str, Any]]]:
    """Wait until the dag processor has parsed every pipeline (or reported errors)."""
    deadline = time.monotonic() + PARSE_WAIT_S
    while True:
        dags = sorted(d["dag_id"] for d in api.dags())
        errors = api.import_errors()
        if wanted <= set(dags) or errors or time.monotonic() > deadline:
            return dags, errors
        time.sleep(2)


def _banner(kit: Kit, port: int, api: Airflow, again: bool) -> None:
    wanted = {p.id for p in _valid_pipelines(kit)}
    api.login(USER, kit.password())
    dags, errors = _wait_parsed(api, wanted)
    _say(f"\nAirflow is {'already ' if again else ''}running for {kit.root.name}")
    _say(f"  UI          http://127.0.0.1:{port}")
    _say(f"  login       {USER} / {kit.password()}   (kept in .airflow/passwords.json)")
    _say(f"  DAGs folder {kit.root / 'dags'}   executor: docker")
    _say(f"  connections {kit.connections_file.name} (Airflow's LocalFilesystemBackend)")
    _say(f"  pipelines   {', '.join(dags) or 'none yet'}")
    for e in errors:
        _say(f"  import error {e['filename']}:\n    " + e["stack_trace"].strip().replace("\n", "\n    "))
    first = sorted(wanted)[0] if wanted else "<pipeline>"
    _say(f"next: make run PIPELINE={first}   |   make down (keeps the metadata)")


def up(kit: Kit, port: int) -> int:
    alive = processes.running(kit)
    if set(alive) == set(COMPONENTS):
        port = processes.recorded_port(kit) or port
        os.environ.update(kit.airflow_env(port))
        api = Airflow(f"http://127.0.0.1:{port}")
        _wait_healthy(kit, api, alive)
        _banner(kit, port, api, again=True)
        return 0

    os.environ.update(kit.airflow_env(port))  # before anything imports airflow
    pipelines = _valid_pipelines(kit)
    preflight.check_connections(kit, pipelines)
    client = preflight.docker_client()
    preflight.check_runner_images(kit, pipelines, client)
    leftovers = processes.kit_processes(kit)
    if leftovers:
        _say(f"stopping {len(leftovers)} process(es) left from an earlier start")
        if processes.stop(kit)[1]:
            raise LocalError("processes of an earlier start do not stop: run `make down`", status=1)
    if not _port_free(port):
        raise LocalError(f"port {port} on 127.0.0.1 is in use: run `make airflow PORT=<free port>`")

    env = kit.airflow_env(port)
    kit.password()
    kit.run_dir.mkdir(parents=True, exist_ok=True)
    _say("migrating the metadata database (.airflow/airflow.db), log in .airflow/run/db-migrate.log")
    with open(kit.run_dir / "db-migrate.log", "wb") as log:
        done = subprocess.run(
            [str(kit.airflow_bin), "db", "migrate"], env=env, stdout=log, stderr=subprocess.STDOUT, check=False
        )
    if done.returncode != 0:
        raise LocalError(f"airflow db migrate failed:\n{processes.log_tail(kit, 'db-migrate')}", status=1)
    pids = processes.start(kit, env, port)
    _say("started " + ", ".join(f"{n} ({p})" for n, p in pids.items()) + "; waiting until healthy")
    api = Airflow(f"http://127.0.0.1:{port}")
    try:
        _wait_healthy(kit, api, pids)
    except BaseException:
        processes.stop(kit)
        _say("stopped what had started")
        raise
    _banner(kit, port, api, again=False)
    return 0


def down(kit: Kit) -> int:
    stopped, left = processes.stop(kit)
    _say(f"stopped {len(stopped)} Airflow process(es)" if stopped else "Airflow was not running")
    removed = _remove_containers(kit)
    if removed:
        _say(f"removed {removed} runner container(s)")
    if demodb.stop(kit):
        _say("stopped and removed the demo database")
    if left:
        raise LocalError(f"processes {left} did not stop, even on SIGKILL: run `make down` again", status=1)
    _say("metadata kept in .airflow/airflow.db; `make airflow` starts again")
    return 0


def _remove_containers(kit: Kit) -> int:
    try:
        client = preflight.docker_client()
    except LocalError as exc:
        _say(f"runner containers not checked: {exc}")
        return 0
    removed = 0
    for spec in _valid_pipelines(kit):
        for c in client.containers.list(all=True, filters={"label": f"tinyrun.pipeline={spec.id}"}):
            c.remove(force=True)
            removed += 1
    return removed


def run(kit: Kit, pipeline: str, timeout_s: float) -> int:
    parsed = _parse_each(kit)
    known = sorted(p.id for p in parsed if isinstance(p, PipelineSpec))
    if pipeline not in known:
        broken = [str(e).splitlines()[0] for e in parsed if not isinstance(e, PipelineSpec)]
        raise LocalError(
            f"no pipeline {pipeline!r} in pipelines/ (pipelines: {', '.join(known) or 'none'})"
            + "".join(f"\n  not loaded: {b}" for b in broken)
        )
    port = processes.recorded_port(kit)
    if port is None or not processes.running(kit):
        raise LocalError("Airflow is not running for this datakit: start it with `make airflow`")
    api = Airflow(f"http://127.0.0.1:{port}")
    api.login(USER, kit.password())
    return run_pipeline(api, pipeline, timeout_s)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tinyrun_dagfactory.local", description=__doc__.splitlines()[0])
    parser.add_argument("--kit", default=".", help="the datakit folder (default: the current folder)")
    sub = parser.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", help="start the local Airflow (again: no-op when running)")
    p_up.add_argument("--port", type=int, default=int(os.environ.get("PORT") or DEFAULT_PORT))
    sub.add_parser("down", help="stop everything; keep the metadata")
    p_run = sub.add_parser("run", help="trigger one pipeline and follow it")
    p_run.add_argument("pipeline")
    p_run.add_argument("--timeout", type=float, default=1800.0, help="seconds to follow the run (default 1800)")
    p_db = sub.add_parser("demo-db", help="start the throwaway PostgreSQL of the example")
    p_db.add_argument("--port", type=int, default=int(os.environ.get("DEMO_DB_PORT") or demodb.DEFAULT_PORT))
    args = parser.parse_args(argv)
    try:
        kit = kit_at(args.kit)
        if args.command == "up":
            return up(kit, args.port)
        if args.command == "down":
            return down(kit)
        if args.command == "run":
            return run(kit, args.pipeline, args.timeout)
        demodb.start(kit, args.port)
        return 0
    except LocalError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return exc.status
    except (ApiError, OSError) as exc:
        print(f"error: the Airflow API: {exc} (the components' logs are in .airflow/run/)", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
