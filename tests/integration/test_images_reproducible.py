"""The images are reproducible: the same commit gives the same image ID wherever and whenever it is
built. Two builds into fresh folders, at different times and under different umasks, must give the
image IDs `make images` wrote into build/images.lock.json, byte for byte the same config and layer, and an
image whose only timestamps are the commit time. The SBOM inside names musl and the CA bundle."""

from __future__ import annotations

import io
import json
import os
import secrets
import subprocess
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from harness.runner import binary_name

RUNNER_UID = 65532


def commit_epoch(repo: Path) -> int:
    return int(subprocess.run(["git", "-C", str(repo), "log", "-1", "--format=%ct"],
                              check=True, capture_output=True, text=True).stdout)


def make_images(repo: Path, images_dir: Path, images_repo: str, umask: int) -> dict[str, str]:
    """`make` the image ID files into IMAGES_DIR, tagged IMAGES_REPO/<runner>:<version>."""
    env = {k: v for k, v in os.environ.items() if k not in ("SOURCE_DATE_EPOCH", "MAKEFLAGS")}
    runners = sorted(json.loads((repo / "build" / "images.lock.json").read_text())["images"])
    targets = [str(images_dir / f"{r}.id") for r in runners]
    subprocess.run(["make", "-s", "-C", str(repo), f"IMAGES_DIR={images_dir}", f"IMAGES_REPO={images_repo}",
                    *targets], check=True, env=env, preexec_fn=lambda: os.umask(umask))
    return {r: (images_dir / f"{r}.id").read_text().strip() for r in runners}


@dataclass
class Image:
    """A `docker load` archive read back: its config and its (only) layer's entries and files."""

    config: dict[str, Any]
    members: list[tarfile.TarInfo]
    files: dict[str, bytes]
    config_bytes: bytes
    layer_bytes: bytes


def read_archive(archive: Path) -> Image:
    with tarfile.open(archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))  # type: ignore[arg-type]
        config_bytes = outer.extractfile(manifest[0]["Config"]).read()  # type: ignore[union-attr]
        (layer_name,) = manifest[0]["Layers"]
        layer_bytes = outer.extractfile(layer_name).read()  # type: ignore[union-attr]
    with tarfile.open(fileobj=io.BytesIO(layer_bytes)) as layer:
        members = layer.getmembers()
        files = {m.name: layer.extractfile(m).read() for m in members if m.isfile()}  # type: ignore[union-attr]
    return Image(json.loads(config_bytes), members, files, config_bytes, layer_bytes)


@dataclass
class Builds:
    """Two builds of every image: their folders, tag repositories and image IDs."""

    dirs: tuple[Path, Path]
    repos: tuple[str, str]
    ids: tuple[dict[str, str], dict[str, str]]


@pytest.fixture(scope="module")
def builds(repo_root: Path, images_lock: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Builds]:
    base = tmp_path_factory.mktemp("images")
    dirs = (base / "a", base / "b" / "deeper")
    repos = (f"tinyrun-repro-{secrets.token_hex(4)}", f"tinyrun-repro-{secrets.token_hex(4)}")
    first = make_images(repo_root, dirs[0], repos[0], 0o022)
    time.sleep(1.5)  # a clock-derived timestamp would now differ
    second = make_images(repo_root, dirs[1], repos[1], 0o077)
    yield Builds(dirs, repos, (first, second))
    tags = [f"{n}/{r}:{images_lock['version']}" for n in repos for r in first]
    subprocess.run(["docker", "rmi", *tags], capture_output=True, check=False)


def test_two_builds_give_the_locked_image_ids(builds: Builds, images_lock: dict[str, Any]) -> None:
    locked = {r: e["id"] for r, e in images_lock["images"].items()}
    assert builds.ids[0] == builds.ids[1] == locked
    for runner in locked:
        first, second = (read_archive(d / runner / "image.tar") for d in builds.dirs)
        assert first.config_bytes == second.config_bytes
        assert first.layer_bytes == second.layer_bytes


def test_docker_loaded_them_under_those_ids(builds: Builds, images_lock: dict[str, Any]) -> None:
    for repo, ids in zip(builds.repos, builds.ids, strict=True):
        for runner, image_id in ids.items():
            shown = subprocess.run(["docker", "image", "inspect", "-f", "{{.Id}}",
                                    f"{repo}/{runner}:{images_lock['version']}"],
                                   check=True, capture_output=True, text=True).stdout.strip()
            assert shown == image_id


def test_only_timestamp_is_the_commit_time(builds: Builds, repo_root: Path) -> None:
    epoch = commit_epoch(repo_root)
    created = datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for runner in builds.ids[0]:
        image = read_archive(builds.dirs[0] / runner / "image.tar")
        config, members = image.config, image.members
        assert config["created"] == created
        assert config["config"]["Labels"]["org.opencontainers.image.created"] == created
        assert {h["created"] for h in config["history"]} == {created}
        assert {m.mtime for m in members} == {epoch}
        assert {m.name for m in members if m.uid != 0} == {"krb5", "krb5/cache"}
        assert {(m.uid, m.gid) for m in members} == {(0, 0), (RUNNER_UID, RUNNER_UID)}
        assert {m.uname for m in members} | {m.gname for m in members} == {""}
        assert [m.name for m in members] == sorted(m.name for m in members)


def test_sbom_names_musl_and_the_ca_bundle(builds: Builds, repo_root: Path) -> None:
    records = [line.split() for line in (repo_root / "deps" / "pins").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    pins = {r[0]: r for r in records if r[1] == "pin"}
    bundle = (repo_root / "build" / "sysroot" / "etc" / "ssl" / "certs" / "ca-certificates.crt").read_bytes()
    for runner in builds.ids[0]:
        image = read_archive(builds.dirs[0] / runner / "image.tar")
        doc = json.loads(image.files[f"usr/share/doc/tinyrun/{runner}.spdx.json"])
        packages = {p["name"]: p for p in doc["packages"]}
        for name in ("musl", "ca-certificates"):
            assert packages[name]["versionInfo"] == pins[name][4]
            assert packages[name]["licenseDeclared"] == " ".join(pins[name][6:])
            assert pins[name][3] in packages[name]["comment"]
        assert image.files["etc/ssl/certs/ca-certificates.crt"] == bundle


def test_binaries_hold_no_build_path(builds: Builds, repo_root: Path) -> None:
    """A path of this checkout inside a binary would make its image ID depend on where it was built."""
    for runner in builds.ids[0]:
        data = (repo_root / "build" / "bin" / binary_name(runner)).read_bytes()
        assert str(repo_root).encode() not in data, runner
