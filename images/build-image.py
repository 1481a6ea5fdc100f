#!/usr/bin/env python3
"""Build tinyrun/<runner>:<version> FROM scratch as a reproducible image and print its image ID.

usage: build-image.py [--tag TAG] RUNNER BINARY VERSION REVISION CA-BUNDLE WORKDIR LIBS...
(TAG defaults to tinyrun/RUNNER:VERSION; WORKDIR receives the archive, image.tar; the image holds
BINARY under its own file name in /usr/local/bin/, as its ENTRYPOINT.)

Docker's legacy builder stamps build times into the image config and new folders, so the same
commit would give a new image ID on every build. Instead this writes the image itself, as the
`docker load` archive format: one layer tar with sorted names, fixed owners and every time set to
SOURCE_DATE_EPOCH (the commit time; `make` sets it), and a config whose only timestamp is that same
time. The image ID is the SHA-256 of the config bytes, so the same inputs give the same ID on any
machine at any time. LIBS are the runner's static link flags (-lpq ...): they decide the SBOM.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

import sbom

HERE = Path(__file__).resolve().parent
ROOT_UID = 0
RUNNER_UID = 65532  # the image's user (images/rootfs/etc/passwd)
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
ARCH = {"x86_64": "amd64", "aarch64": "arm64"}


@dataclass(frozen=True)
class Entry:
    """One file or folder of the layer."""

    path: str
    mode: int
    data: bytes | None = None  # None: a folder
    owner: int = ROOT_UID


def source_date_epoch() -> int:
    value = os.environ.get("SOURCE_DATE_EPOCH", "")
    if not value.isdigit():
        sys.exit("build-image: SOURCE_DATE_EPOCH must be set to the commit time (make sets it)")
    return int(value)


def with_parents(entries: list[Entry]) -> list[Entry]:
    """The entries plus every parent folder not listed (root-owned, 0755), sorted by path."""
    by_path = {e.path: e for e in entries}
    for e in entries:
        parts = e.path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            by_path.setdefault("/".join(parts[:i]), Entry("/".join(parts[:i]), 0o755))
    return [by_path[p] for p in sorted(by_path)]


def layer_tar(entries: list[Entry], epoch: int) -> bytes:
    """A tar of the entries with nothing from the build machine: names, modes, owners, times fixed."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for e in with_parents(entries):
            info = tarfile.TarInfo(e.path if e.data is not None else e.path + "/")
            info.mode, info.mtime = e.mode, epoch
            info.uid = info.gid = e.owner
            info.uname = info.gname = ""
            if e.data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(e.data)
                tar.addfile(info, io.BytesIO(e.data))
    return out.getvalue()


def image_entries(runner: str, binary: Path, ca_bundle: Path, sbom_json: bytes) -> list[Entry]:
    etc = sorted((HERE / "rootfs" / "etc").iterdir())
    return [
        *(Entry(f"etc/{f.name}", 0o644, f.read_bytes()) for f in etc),
        Entry("etc/ssl/certs/ca-certificates.crt", 0o644, ca_bundle.read_bytes()),
        # The ticket volume: setgid 65532 so a sharer running as the host uid (TINYRUN_HOST_UID)
        # can publish there and every consumer in group 65532 can read.
        Entry("krb5", 0o755, owner=RUNNER_UID),
        Entry("krb5/cache", 0o2770, owner=RUNNER_UID),
        Entry("tmp", 0o1777),
        Entry(f"usr/local/bin/{binary.name}", 0o755, binary.read_bytes()),
        Entry(f"usr/share/doc/tinyrun/{runner}.spdx.json", 0o644, sbom_json),
    ]


def image_config(runner: str, binary: str, version: str, revision: str, licenses: str, diff_id: str,
                 epoch: int) -> bytes:
    created = sbom.rfc3339(epoch)
    labels = {
        "org.opencontainers.image.title": runner,
        "org.opencontainers.image.description": f"tinyrun {runner}: a static task runner for Apache Airflow",
        "org.opencontainers.image.version": version,
        "org.opencontainers.image.revision": revision,
        "org.opencontainers.image.created": created,
        "org.opencontainers.image.source": "tinyrun",
        "org.opencontainers.image.licenses": licenses,
    }
    config = {
        "architecture": ARCH.get(platform.machine(), platform.machine()),
        "os": "linux",
        "created": created,
        "config": {
            "User": f"{RUNNER_UID}:{RUNNER_UID}",
            "Env": [PATH_ENV],
            "Entrypoint": [f"/usr/local/bin/{binary}"],
            "WorkingDir": "/tmp",
            "Labels": labels,
        },
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": created, "created_by": f"tinyrun images/build-image.py {runner}"}],
    }
    return json.dumps(config, sort_keys=True, separators=(",", ":")).encode()


def write_archive(workdir: Path, tag: str, layer: bytes, config: bytes) -> Path:
    """The `docker load` archive: manifest.json, the config and the layer."""
    layer_hex = hashlib.sha256(layer).hexdigest()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = [{"Config": config_name, "RepoTags": [tag], "Layers": [f"{layer_hex}/layer.tar"]}]
    members = {"manifest.json": json.dumps(manifest).encode(), config_name: config,
               f"{layer_hex}/layer.tar": layer}
    archive = workdir / "image.tar"
    with tarfile.open(archive, "w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return archive


def build(argv: list[str]) -> str:
    tag = argv[1] if argv[:1] == ["--tag"] else ""
    runner, binary, version, revision, ca_bundle, workdir, *libs = argv[2:] if tag else argv
    tag = tag or f"tinyrun/{runner}:{version}"
    epoch = source_date_epoch()
    pins = sbom.read_pins(str(HERE.parent / "deps" / "pins"))
    binary_bytes = Path(binary).read_bytes()
    doc = sbom.sbom(runner, version, revision, pins, sbom.used_pins(libs, pins), binary_bytes, epoch)
    sbom_json = (json.dumps(doc, indent=1) + "\n").encode()
    layer = layer_tar(image_entries(runner, Path(binary), Path(ca_bundle), sbom_json), epoch)
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    licenses = sbom.licenses(pins, libs)
    config = image_config(runner, Path(binary).name, version, revision, licenses, diff_id, epoch)
    image_id = "sha256:" + hashlib.sha256(config).hexdigest()

    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    archive = write_archive(work, tag, layer, config)
    subprocess.run(["docker", "load", "-q", "-i", str(archive)], check=True, stdout=subprocess.DEVNULL)
    loaded = subprocess.run(["docker", "image", "inspect", "-f", "{{.Id}}", tag],
                            check=True, capture_output=True, text=True).stdout.strip()
    if loaded != image_id:
        sys.exit(f"build-image: docker loaded {tag} as {loaded}, expected {image_id}")
    return image_id


if __name__ == "__main__":
    print(build(sys.argv[1:]))
