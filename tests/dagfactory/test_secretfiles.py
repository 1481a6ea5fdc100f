"""Connections as files for Docker tasks (tinyrun_dagfactory.secretfiles), without containers:
the folder and files the engine bind-mounts, the fallbacks, and the clean-up of killed workers."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO
from tinyrun_dagfactory import operators_docker, secretfiles

SHM = Path("/dev/shm")


@pytest.fixture
def base(tmp_path: Path) -> Iterator[Path]:
    if secretfiles._filesystem_type(SHM) != "tmpfs":
        pytest.fail("/dev/shm is not a tmpfs on this machine")
    path = SHM / f"tinyrun-test-{tmp_path.name}-{os.getpid()}"
    yield path
    secretfiles.remove(path)


def test_each_connection_is_a_file_only_uid_65532_reads(base: Path) -> None:
    values = {"AIRFLOW_CONN_A": "postgres://u:p%40w@h/db", "AIRFLOW_CONN_B": "{}"}
    folder = secretfiles.create(values, str(base))
    try:
        assert folder.parent == base.resolve()
        assert stat.S_IMODE(base.stat().st_mode) == 0o700
        st = folder.stat()
        assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o700, 65532, 65532)
        for name, value in values.items():
            f = (folder / name).stat()
            assert (stat.S_IMODE(f.st_mode), f.st_uid, f.st_gid) == (0o400, 65532, 65532)
            assert (folder / name).read_text() == value  # exactly the value: no newline added
        assert secretfiles.file_environment(list(values)) == {
            "AIRFLOW_CONN_A_FILE": "/run/secrets/AIRFLOW_CONN_A",
            "AIRFLOW_CONN_B_FILE": "/run/secrets/AIRFLOW_CONN_B",
        }
    finally:
        secretfiles.remove(folder)
    assert not folder.exists()


def test_folders_of_dead_workers_are_removed(base: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    base.mkdir(mode=0o700)
    (base / f"{dead.pid}-0123").mkdir()
    (base / f"{dead.pid}-0123" / "AIRFLOW_CONN_A").write_text("stale secret")
    alive = base / f"{os.getppid()}-4567"
    alive.mkdir()
    folder = secretfiles.create({"AIRFLOW_CONN_A": "x"}, str(base))
    assert sorted(p.name for p in base.iterdir()) == sorted([alive.name, folder.name])


def test_a_folder_on_disk_is_refused() -> None:
    on_disk = REPO / "build" / "secrets-test"
    try:
        with pytest.raises(secretfiles.Unavailable, match="is not on a tmpfs"):
            secretfiles.create({"AIRFLOW_CONN_A": "x"}, str(on_disk))
        assert list(on_disk.iterdir()) == []  # nothing written
    finally:
        secretfiles.remove(on_disk)


@pytest.mark.parametrize(
    ("url", "local"),
    [("unix:///var/run/docker.sock", True), ("tcp://10.1.2.3:2376", False), ("ssh://builder", False)],
)
def test_engine_location(url: str, local: bool) -> None:
    assert secretfiles.engine_is_local(url) is local


def test_remote_engine_keeps_the_environment_and_warns_once(
    base: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from conftest import reset_settings

    monkeypatch.setenv("TINYRUN_DOCKER_SECRETS_DIR", str(base))
    reset_settings()
    monkeypatch.setattr(operators_docker, "_warned", set())
    remote = operators_docker.TinyrunDockerOperator(task_id="t", image="x:1", docker_url="tcp://10.1.2.3:2376")
    local = operators_docker.TinyrunDockerOperator(task_id="u", image="x:1", docker_url="unix:///var/run/docker.sock")
    with caplog.at_level(logging.WARNING, logger="tinyrun_dagfactory.operators_docker"):
        assert remote._secret_folder({"AIRFLOW_CONN_A": "x"}) is None
        assert remote._secret_folder({"AIRFLOW_CONN_A": "x"}) is None
        folder = local._secret_folder({"AIRFLOW_CONN_A": "x"})
    assert folder is not None and folder.parent == base.resolve()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "is remote" in warnings[0]
    assert local._secret_folder({}) is None  # no connection: nothing to hand over
