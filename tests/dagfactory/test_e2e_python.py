"""End to end: real Airflow (`dag.test()`) runs `runner: python` tasks with DockerOperator in a real
team runtime image: the debootstrap'd bookworm with python3 (harness.rootfs, cached under build/)
plus python-launcher copied from its image as ENTRYPOINT, the way the README tells teams to.

The code snapshot is baked into the team image at /code (a file:// snapshot, as from a mounted
volume); the image is pinned by its image ID. A program that exits 99 makes the task skipped (and
its downstream task too), exit 1 fails it, and the JSON a program writes to TINYRUN_RESULT_FILE
becomes the task's XCom.
"""

from __future__ import annotations

import re
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, dagbag, datakit_in_dags_folder, make_datakit
from harness.docker import docker_available, image_exists
from harness.rootfs import runtime_image
from harness.snapshots import make_snapshot, sha256
from test_e2e_docker import _run

pytestmark = pytest.mark.skipif(not docker_available(), reason="needs a Docker engine")

# python3-minimal has no json module: the program writes its result by hand. argv: EXIT [DAY]
# It also reports which AIRFLOW_CONN_* names it sees and the scheme of the connection it reads.
MAIN_PY = """\
import os, sys
conns = sorted(k for k in os.environ if k.startswith("AIRFLOW_CONN_"))
scheme = os.environ["AIRFLOW_CONN_WAREHOUSE"].split(":", 1)[0]
with open(os.environ["TINYRUN_RESULT_FILE"], "w") as f:
    f.write('{"rows": 42, "argv": ["%s"], "dag": "%s", "conns": ["%s"], "scheme": "%s"}'
            % ('", "'.join(sys.argv[1:]), os.environ["TINYRUN_DAG_ID"], '", "'.join(conns), scheme))
sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
"""
SNAPSHOT = make_snapshot({"main.py": MAIN_PY})

PIPELINE = """\
pipeline: {kit}_python
tags: [python]
defaults:
  retries: 0
tasks:
  - id: result
    runner: python
    {code}
    program: main.py
    args: ["0", "{{{{ ds }}}}"]
  - id: skip
    runner: python
    {code}
    program: main.py
    args: ["99"]
  - id: after_skip
    runner: python
    depends_on: [skip]
    {code}
    program: main.py
  - id: fails
    runner: python
    retries: 2
    retry_delay: 0
    {code}
    program: main.py
    args: ["1"]
"""
CODE = "image: {image}\n    code: file:///code/snapshot.tar.gz\n    code_sha256: {sha}"


@pytest.fixture(scope="module")
def team_image(
    images_lock: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> str:
    """The runtime image + python-launcher + the snapshot at /code; its image ID."""
    entry = images_lock.get("images", {}).get("python-launcher")
    if not entry or not image_exists(entry.get("id", "")):
        pytest.fail(
            "no python-launcher image in build/images.lock.json: run `make images`",
            pytrace=False,
        )
    ctx = tmp_path_factory.mktemp("team-image")
    (ctx / "snapshot.tar.gz").write_bytes(SNAPSHOT)
    (ctx / "Dockerfile").write_text(
        f"FROM {entry['id']} AS launcher\n"
        f"FROM {runtime_image(REPO)}\n"
        "COPY --from=launcher /usr/local/bin/python-launcher /usr/local/bin/python-launcher\n"
        "COPY snapshot.tar.gz /code/snapshot.tar.gz\n"
        'ENTRYPOINT ["/usr/local/bin/python-launcher"]\n'
    )
    (ctx / "snapshot.tar.gz").chmod(0o644)
    out = subprocess.run(
        ["docker", "build", "-q", str(ctx)],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return out.stdout.strip()


def test_python_tasks_skip_fail_and_return_their_result(
    team_image: str, tmp_path: Path, airflow_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert team_image.startswith("sha256:")
    # the datakit's defaults.yaml gives every task `conn: warehouse`: its value reaches the container
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", "postgres://etl@127.0.0.1:5432/wh")
    name = f"e2e_py_{tmp_path.name[-8:].replace('-', '_')}"
    kit = make_datakit(tmp_path, REPO / "build" / "images.lock.json", name=name)
    text = PIPELINE.format(
        kit=name, code=CODE.format(image=team_image, sha=sha256(SNAPSHOT))
    )
    (kit / "pipelines" / "python.yaml").write_text(textwrap.dedent(text))
    dest = datakit_in_dags_folder(kit, name)
    bag = dagbag(dest / "dags")
    assert bag.import_errors == {}
    dag_id = f"{name}_python"
    result = _run(bag.dags[dag_id])

    assert result.pop("__run__") == {"state": "failed"}  # `fails` failed
    states = {t: (r["state"], r["try_number"]) for t, r in result.items()}
    assert states == {
        "result": ("success", 1),
        "skip": ("skipped", 1),  # exit 99
        "after_skip": ("skipped", 0),  # downstream of the skip never ran
        "fails": ("failed", 3),  # exit 1: a task failure, retried twice
    }
    # the result file is the XCom: the program's JSON merged into the launcher's result fields
    xcom = result["result"]["xcom"]
    assert isinstance(xcom, dict), xcom
    assert xcom["rows"] == 42 and xcom["argv"][0] == "0", xcom
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", xcom["argv"][1]), (
        xcom
    )  # {{ ds }} rendered
    assert xcom["status"] == "success" and xcom["exit_code"] == 0
    assert xcom["dag"] == dag_id  # the run identity reached the program
    assert xcom["code_sha256"] == sha256(SNAPSHOT)
    # with a local engine the connection reaches the container as a file (never in `docker
    # inspect`), and the launcher gives it to the program as the variable, as on Kubernetes
    assert (
        xcom["conns"] == ["AIRFLOW_CONN_WAREHOUSE", "AIRFLOW_CONN_WAREHOUSE_FILE"]
        and xcom["scheme"] == "postgres"
    ), xcom
    assert result["skip"]["xcom"] is None and result["fails"]["xcom"] is None
