"""What `make airflow` checks before it starts anything, so that a bad input never leaves half a
platform running: the connections file, the docker engine, and the runner images of runners.lock.

Each check raises :class:`LocalError` with what to do; none of them starts a process.
"""

from __future__ import annotations

import os
from typing import Any

from ..images import ImageTableError, load_table
from ..spec import PipelineSpec
from .layout import Kit, LocalError

ENGINE_TIMEOUT_S = 5


def docker_url() -> str:
    """The engine the DAG factory's DockerOperator talks to (TINYRUN_DOCKER_URL, DOCKER_HOST, the socket)."""
    for name in ("TINYRUN_DOCKER_URL", "DOCKER_HOST"):
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return "unix:///var/run/docker.sock"


def check_connections(kit: Kit, pipelines: list[PipelineSpec]) -> list[str]:
    """The connection ids in the connections file; every id a pipeline uses must be among them."""
    path = kit.connections_file
    if not path.is_file():
        raise LocalError(
            f"{path.name} is missing: copy {kit.connections_example.name} to {path.name} "
            f"(`install -m 600 {kit.connections_example.name} {path.name}`) and point it at your databases, "
            "or run `make demo-db`, which writes one for the demo PostgreSQL"
        )
    from airflow.exceptions import AirflowException
    from airflow.secrets.local_filesystem import load_connections_dict

    try:
        found = load_connections_dict(str(path))
    except (AirflowException, ValueError) as exc:
        raise LocalError(f"{path.name} cannot be read as Airflow connections: {exc}") from exc
    needed = {c: p.id for p in pipelines for t in p.tasks.values() for c in t.connections}
    missing = sorted(set(needed) - set(found))
    if missing:
        uses = ", ".join(f"{c} (pipeline {needed[c]})" for c in missing)
        raise LocalError(f"{path.name} has no connection {uses}: add it (see {kit.connections_example.name})")
    return sorted(found)


def docker_client() -> Any:
    """A client of the engine the tasks will use, or LocalError when it does not answer."""
    import docker

    url = docker_url()
    try:
        client = docker.DockerClient(base_url=url, timeout=ENGINE_TIMEOUT_S)
        client.ping()
    except Exception as exc:
        raise LocalError(
            f"the docker engine at {url} does not answer ({type(exc).__name__}): the pipelines' tasks run as "
            "containers, so start Docker (or set DOCKER_HOST to a reachable engine) and run `make airflow` again",
            status=75,
        ) from exc
    return client


def check_runner_images(kit: Kit, pipelines: list[PipelineSpec], client: Any) -> None:
    """Every runner image the pipelines use is on the engine with the image ID runners.lock pins."""
    import docker

    lock = kit.root / "runners.lock"
    try:
        table = load_table(lock)
        refs = {table.for_runner(t.runner) for p in pipelines for t in p.tasks.values() if t.runner != "python"}
    except (OSError, ValueError, ImageTableError) as exc:
        raise LocalError(f"runners.lock: {exc}") from exc
    problems = []
    for ref in sorted(refs, key=lambda r: r.name):
        try:
            found = client.images.get(ref.image).id
        except docker.errors.ImageNotFound:
            found = None
        if found != ref.id:
            problems.append(f"{ref.image}: runners.lock pins {ref.id}, the engine has {found or 'no such image'}")
    if problems:
        raise LocalError(
            "the docker engine does not have the runner images this datakit pins:\n  "
            + "\n  ".join(problems)
            + f"\nbuild them with `make images` in the tinyrun checkout of version {table.version}, "
            "or regenerate runners.lock from the tinyrun build you have"
        )
