"""`make push REGISTRY=host:port[/prefix]`: every image goes to a real registry (Debian's
docker-registry on loopback, started here) and its digest reference lands in the lock; the local
tags removed, the image pulls by that digest and runs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.net import free_port, wait_for_port

REGISTRY_BIN = Path("/usr/bin/docker-registry")
MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """host:port of a fresh registry on 127.0.0.1, storing in a temporary folder."""
    if not REGISTRY_BIN.exists():
        pytest.fail(f"{REGISTRY_BIN} is missing: install docker-registry (tools/host-packages.txt)", pytrace=False)
    base = tmp_path_factory.mktemp("registry")
    port = free_port()
    config = base / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log: {level: warn}\n"
        f"storage: {{filesystem: {{rootdirectory: {base / 'data'}}}}}\n"
        f"http: {{addr: '127.0.0.1:{port}'}}\n"
    )
    with (base / "registry.log").open("w") as log:
        proc = subprocess.Popen([str(REGISTRY_BIN), "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port("127.0.0.1", port, timeout=20)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def make(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MAKEFLAGS"}
    return subprocess.run(["make", "-s", "-C", str(repo), *args], check=False, capture_output=True, text=True, env=env)


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def pushed(registry: str, repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict]]:
    """`make push` to REGISTRY/ci/team, into a copy of the lock (the build's own lock stays as it is)."""
    lock = tmp_path_factory.mktemp("lock") / "images.lock.json"
    shutil.copy(repo_root / "build" / "images.lock.json", lock)
    target = f"{registry}/ci/team"
    result = make(repo_root, "push", f"REGISTRY={target}", f"IMAGES_LOCK={lock}")
    assert result.returncode == 0, result.stderr
    data = json.loads(lock.read_text())
    yield target, data
    for runner, entry in data["images"].items():
        subprocess.run(["docker", "rmi", entry["digest"], f"{target}/tinyrun/{runner}:{entry['tag']}"],
                       capture_output=True, check=False)


def test_lock_records_a_digest_reference_per_image(pushed: tuple[str, dict], images_lock: dict[str, Any]) -> None:
    target, lock = pushed
    assert lock["images"].keys() == images_lock["images"].keys()
    for runner, entry in lock["images"].items():
        assert re.fullmatch(rf"{re.escape(target)}/tinyrun/{runner}@sha256:[0-9a-f]{{64}}", entry["digest"])
        assert {k: v for k, v in entry.items() if k != "digest"} == images_lock["images"][runner]


def test_registry_serves_the_image_under_that_digest(pushed: tuple[str, dict]) -> None:
    """The registry's manifest for the digest names our image (its config digest is the image ID)."""
    _, lock = pushed
    for entry in lock["images"].values():
        name_and_host, digest = entry["digest"].split("@")
        host, name = name_and_host.split("/", 1)
        req = urllib.request.Request(f"http://{host}/v2/{name}/manifests/{digest}", headers={"Accept": MANIFEST_V2})
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.headers["Docker-Content-Digest"] == digest
            manifest = json.load(resp)
        assert manifest["config"]["digest"] == entry["id"]


def test_pull_by_digest_and_run(pushed: tuple[str, dict], repo_root: Path) -> None:
    target, lock = pushed
    version = (repo_root / "VERSION").read_text().strip()
    for runner, entry in lock["images"].items():
        subprocess.run(["docker", "rmi", f"{target}/tinyrun/{runner}:{entry['tag']}", entry["digest"]],
                       capture_output=True, check=False)
        assert entry["digest"] not in docker("image", "inspect", "-f", "{{json .RepoDigests}}", entry["id"])
        docker("pull", "-q", entry["digest"])
        assert docker("image", "inspect", "-f", "{{.Id}}", entry["digest"]).strip() == entry["id"]
        out = docker("run", "--rm", entry["digest"], "--version")
        assert runner in out and version in out


def test_push_needs_a_registry(repo_root: Path) -> None:
    result = make(repo_root, "push", "REGISTRY=")
    assert result.returncode == 2
    assert "REGISTRY=host:port" in result.stderr
