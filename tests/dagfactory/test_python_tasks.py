"""`runner: python` tasks: validation (a pinned team image, code and its digest), the launcher's
command line, and on Kubernetes the init container that fetches remote code into an emptyDir
(pods rendered offline by the provider's own code and validated as a Kubernetes Pod)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from conftest import FAKE_ID, assert_valid_pod, reset_settings, write_lock
from tinyrun_dagfactory import validate_paths

SHA = "9f" * 32
TEAM_DIGEST = "127.0.0.1:5000/team/pandas@sha256:" + "e1" * 32
TEAM_ID = "sha256:" + "a7" * 32
LAUNCHER_DIGEST = "127.0.0.1:5000/tinyrun/python-launcher@sha256:" + "5c" * 32

GOOD = f"""\
pipeline: py
owner: data
tags: [t]
tasks:
  - id: validate
    runner: python
    image: {TEAM_DIGEST}
    code: https://code.example/etl-1.4.tar.gz
    code_sha256: {SHA}
    program: validate.py
    args: [--day, "{{{{ ds }}}}", 3]
    retries: 1
    timeout: 10m
    connections: [warehouse]
  - id: local
    runner: python
    image: {TEAM_ID}
    code: file:///code/etl.tar.gz
    program: jobs/report.py
    depends_on: [validate]
"""


def _errors(tmp_path: Path, text: str) -> list[str]:
    folder = tmp_path / "pipelines"
    folder.mkdir(exist_ok=True)
    (folder / "p.yaml").write_text(textwrap.dedent(text))
    _, errors = validate_paths([folder])
    return [str(e).replace(str(folder) + "/", "") for e in errors]


def _edit(old: str, new: str, text: str = GOOD) -> str:
    assert old in text
    return text.replace(old, new, 1)


def test_good_python_pipeline_is_valid(tmp_path: Path) -> None:
    assert _errors(tmp_path, GOOD) == []


PIN_FIX = (
    "pin the team image: NAME@sha256:<digest> (docker inspect --format '{{index .RepoDigests 0}}' IMAGE) "
    "or its image ID sha256:<64 hex> (docker inspect --format '{{.Id}}' IMAGE; Docker executor only)"
)

CASES = {
    "bare tag": (
        _edit(TEAM_DIGEST, "team/pandas:1.5"),
        [
            f"p.yaml:7: py/validate: image: 'team/pandas:1.5' is not pinned (a tag can be moved to other code): {PIN_FIX}"
        ],
    ),
    "latest implied": (
        _edit(TEAM_ID, "team/pandas"),
        [
            f"p.yaml:17: py/local: image: 'team/pandas' is not pinned (a tag can be moved to other code): {PIN_FIX}"
        ],
    ),
    "short digest": (
        _edit(TEAM_DIGEST, "team/pandas@sha256:e1e1"),
        [
            (
                "p.yaml:7: py/validate: image: 'team/pandas@sha256:e1e1' is not pinned (a tag can be moved to other "
                f"code): {PIN_FIX}"
            )
        ],
    ),
    "image ID on kubernetes": (
        _edit("tags: [t]\n", "tags: [t]\nexecutor: kubernetes\n"),
        [
            "p.yaml:18: py/local: image: an image ID is local to one Docker engine and Kubernetes cannot pull it: "
            + PIN_FIX
        ],
    ),
    "remote code without digest": (
        _edit(f"    code_sha256: {SHA}\n", ""),
        [
            (
                "p.yaml:8: py/validate: code: remote code needs code_sha256 (the snapshot's SHA-256, e.g. from "
                "`sha256sum snapshot.tar.gz`)"
            )
        ],
    ),
    "plain http": (
        _edit("https://code.example", "http://code.example"),
        [
            "p.yaml:8: py/validate: code: must be https://... (with code_sha256) or file:///path; plain http:// is refused"
        ],
    ),
    "relative file url": (
        _edit("file:///code/etl.tar.gz", "file://code/etl.tar.gz"),
        [
            "p.yaml:18: py/local: code: file:// needs an absolute path inside the container: file:///path"
        ],
    ),
    "program outside the snapshot": (
        _edit("program: jobs/report.py", "program: ../../etc/x.py"),
        [
            "p.yaml:19: py/local: program: must be a relative path inside the code snapshot"
        ],
    ),
    "no image": (
        _edit(f"    image: {TEAM_ID}\n", ""),
        ["p.yaml:15: py/local: image: missing required field"],
    ),
    "upper-case digest": (
        _edit(f"code_sha256: {SHA}", f"code_sha256: {SHA.upper()}"),
        None,  # the schema's pattern: asserted below by line and field only
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_python_task_errors_name_file_line_and_fix(tmp_path: Path, case: str) -> None:
    text, expected = CASES[case]
    errors = _errors(tmp_path, text)
    if expected is None:
        assert len(errors) == 1 and errors[0].startswith(
            "p.yaml:9: py/validate: code_sha256: "
        ), errors
    else:
        assert errors == expected


def _dags(tmp_path: Path, lock: Path, text: str = GOOD) -> tuple[Any, Any]:
    from tinyrun_dagfactory.build import build_dag
    from tinyrun_dagfactory.images import load_table
    from tinyrun_dagfactory.pipelines import parse_file

    path = tmp_path / "pipelines" / "p.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    spec = parse_file(path, root=tmp_path)
    table = load_table(lock)
    return build_dag(spec, table, "docker"), build_dag(spec, table, "kubernetes")


def test_docker_runs_the_team_image_with_the_launcher_command(
    tmp_path: Path, airflow_db: Path
) -> None:
    lock = write_lock(tmp_path / "images.lock.json", {"python-launcher": FAKE_ID})
    docker_dag, _ = _dags(tmp_path, lock)
    validate, local = docker_dag.task_dict["validate"], docker_dag.task_dict["local"]
    assert (
        validate.image == TEAM_DIGEST and validate.tinyrun_image_id is None
    )  # a digest pins itself
    assert validate.command == [
        "run",
        "--code",
        "https://code.example/etl-1.4.tar.gz",
        "--code-sha256",
        SHA,
        "--",
        "validate.py",
        "--day",
        "{{ ds }}",
        "3",
    ]
    assert validate.tinyrun_connections == ["warehouse"]
    assert validate.retries == 1 and validate.execution_timeout.total_seconds() == 600
    assert validate.skip_on_exit_code == [99]
    assert (
        local.image == TEAM_ID and local.tinyrun_image_id == TEAM_ID
    )  # checked against the engine
    assert local.command == [
        "run",
        "--code",
        "file:///code/etl.tar.gz",
        "--",
        "jobs/report.py",
    ]
    assert local.labels["tinyrun.image-id"] == TEAM_ID


def test_docker_python_tasks_need_no_launcher_in_the_image_table(
    tmp_path: Path, airflow_db: Path
) -> None:
    """The launcher is inside the team image: the table's python-launcher matters only on Kubernetes."""
    from tinyrun_dagfactory.build import build_dag
    from tinyrun_dagfactory.images import ImageTableError, load_table
    from tinyrun_dagfactory.pipelines import parse_file

    lock = write_lock(tmp_path / "images.lock.json", {"postgres-runner": FAKE_ID})
    path = tmp_path / "p.yaml"
    path.write_text(GOOD)
    spec = parse_file(path, root=tmp_path)
    assert (
        build_dag(spec, load_table(lock), "docker").task_dict["validate"].image
        == TEAM_DIGEST
    )
    with pytest.raises(ImageTableError, match="python-launcher"):
        build_dag(spec, load_table(lock), "kubernetes")


def test_kubernetes_fetches_remote_code_in_an_init_container(
    tmp_path: Path, airflow_db: Path
) -> None:
    from tinyrun_dagfactory.render import pod_manifest

    lock = write_lock(
        tmp_path / "images.lock.json",
        {"python-launcher": FAKE_ID},
        digests={"python-launcher": LAUNCHER_DIGEST},
    )
    text = _edit(f"image: {TEAM_ID}", f"image: {TEAM_DIGEST}")
    _, kube_dag = _dags(tmp_path, lock, text)
    pod = pod_manifest(kube_dag.task_dict["validate"])
    assert_valid_pod(pod)
    spec = pod["spec"]
    (init,) = spec["initContainers"]
    assert (
        init["image"] == LAUNCHER_DIGEST
    )  # the launcher's own image, pinned by its registry digest
    assert "command" not in init  # its ENTRYPOINT is python-launcher
    assert init["args"] == [
        "fetch",
        "--cache",
        "/snapshots",
        "--code",
        "https://code.example/etl-1.4.tar.gz",
        "--code-sha256",
        SHA,
    ]
    assert (
        {m["mountPath"]: m.get("readOnly", False) for m in init["volumeMounts"]}
        == {
            "/snapshots": False,
            "/tmp": False,
            "/etc/ssl/certs": True,  # the launcher's image is FROM scratch: CAs from a ConfigMap
        }
    )
    base = next(c for c in spec["containers"] if c["name"] == "base")
    assert base["image"] == TEAM_DIGEST
    # the main container runs the unpacked folder the init container left in the emptyDir
    assert base["args"] == [
        "run",
        "--code",
        f"file:///snapshots/{SHA}",
        "--",
        "validate.py",
        "--day",
        "{{ ds }}",
        "3",
    ]
    assert {m["mountPath"]: m.get("readOnly", False) for m in base["volumeMounts"]}[
        "/snapshots"
    ] is True
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["snapshots"] == {"name": "snapshots", "emptyDir": {}}
    assert volumes["ca-bundle"]["configMap"] == {
        "name": "tinyrun-ca-bundle",
        "items": [{"key": "ca-certificates.crt", "path": "ca-certificates.crt"}],
    }
    # the team image has its own CA bundle
    assert "/etc/ssl/certs" not in {m["mountPath"] for m in base["volumeMounts"]}
    for container in (init, base):
        assert container["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": True,
            "runAsGroup": 65532,
            "runAsNonRoot": True,
            "runAsUser": 65532,
        }
        assert container["resources"] == {
            "limits": {"cpu": "500m", "memory": "512Mi"},
            "requests": {"cpu": "500m", "memory": "512Mi"},
        }
    assert pod["metadata"]["annotations"]["tinyrun.dev/image-id"] == TEAM_DIGEST

    # file:// code is already in the container (a mounted volume or the image): no init container
    local = pod_manifest(kube_dag.task_dict["local"])
    assert_valid_pod(local)
    assert not local["spec"].get("initContainers")
    assert {v["name"] for v in local["spec"]["volumes"]} & {
        "snapshots",
        "ca-bundle",
    } == set()
    lbase = next(c for c in local["spec"]["containers"] if c["name"] == "base")
    assert lbase["args"] == [
        "run",
        "--code",
        "file:///code/etl.tar.gz",
        "--",
        "jobs/report.py",
    ]


def test_kubernetes_init_container_uses_the_tag_before_make_push(
    tmp_path: Path, airflow_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tinyrun_dagfactory.render import pod_manifest

    monkeypatch.setenv("TINYRUN_K8S_CA_CONFIGMAP", "corp-ca")
    reset_settings()
    lock = write_lock(tmp_path / "images.lock.json", {"python-launcher": FAKE_ID})
    _, kube_dag = _dags(
        tmp_path, lock, _edit(f"image: {TEAM_ID}", f"image: {TEAM_DIGEST}")
    )
    pod = pod_manifest(kube_dag.task_dict["validate"])
    assert_valid_pod(pod)
    assert pod["spec"]["initContainers"][0]["image"] == "tinyrun/python-launcher:0.1.0"
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert volumes["ca-bundle"]["configMap"]["name"] == "corp-ca"
