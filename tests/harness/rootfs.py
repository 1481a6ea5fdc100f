"""A Debian runtime image with python3, built by the test run and cached under build/.

``runtime_image(repo_root)`` returns the ID of a local image whose root is a debootstrap'd
bookworm (``--variant=minbase`` plus the packages below). The root filesystem tarball is cached
as build/rootfs/bookworm-<key>.tar.gz, the key hashing the suite, variant and package list, so
later runs only ``docker import`` it (and skip that too when the image is still there). The
archive comes from the machine's own apt configuration: no host name is written here.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

SUITE = "bookworm"
VARIANT = "minbase"
PACKAGES = ("python3-minimal",)


def _key(packages: tuple[str, ...] = PACKAGES) -> str:
    text = "\n".join([SUITE, VARIANT, *packages])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _apt_mirror() -> str:
    """The URI of the first deb source of SUITE in the machine's apt configuration."""
    candidates: list[Path] = [Path("/etc/apt/sources.list")]
    candidates += sorted(Path("/etc/apt/sources.list.d").glob("*.sources"))
    candidates += sorted(Path("/etc/apt/sources.list.d").glob("*.list"))
    for path in candidates:
        if not path.exists():
            continue
        text = path.read_text()
        if path.suffix == ".sources":
            for stanza in text.split("\n\n"):
                fields = dict(
                    line.split(":", 1) for line in stanza.splitlines() if ":" in line and not line.startswith("#")
                )
                suites = fields.get("Suites", "").split()
                if "deb" in fields.get("Types", "").split() and SUITE in suites:
                    return fields["URIs"].split()[0]
        else:
            for line in text.splitlines():
                parts = line.split()
                if len(parts) >= 3 and parts[0] == "deb" and parts[-2 if parts[1].startswith("[") else 2] == SUITE:
                    return parts[2] if parts[1].startswith("[") else parts[1]
    raise RuntimeError(f"no apt source for {SUITE} in /etc/apt: cannot debootstrap")


def rootfs_tarball(repo_root: Path, packages: tuple[str, ...] = PACKAGES) -> Path:
    """build/rootfs/<suite>-<key>.tar.gz, made with debootstrap when missing."""
    out = repo_root / "build" / "rootfs" / f"{SUITE}-{_key(packages)}.tar.gz"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="rootfs-", dir=out.parent))
    try:
        root = work / "root"
        subprocess.run(
            ["debootstrap", f"--variant={VARIANT}", f"--include={','.join(packages)}", SUITE, str(root), _apt_mirror()],
            check=True,
            capture_output=True,
        )
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            shutil.rmtree(root / cache, ignore_errors=True)
        tmp = work / "rootfs.tar.gz"
        subprocess.run(["tar", "-C", str(root), "--one-file-system", "--numeric-owner", "-czf", str(tmp), "."], check=True)
        os.replace(tmp, out)
    finally:
        # debootstrap mounts proc and sys in the root while it works: never delete through them
        for mount in ("proc", "sys", "dev/pts"):
            subprocess.run(["umount", "-l", str(work / "root" / mount)], capture_output=True, check=False)
        shutil.rmtree(work, ignore_errors=True)
    return out


def runtime_image(repo_root: Path, packages: tuple[str, ...] = PACKAGES) -> str:
    """The image tinyrun-test/bookworm-python:<key> (imported from the cached tarball); its tag.
    ``packages`` replaces the default package list (e.g. python3-venv for an image that builds a venv)."""
    tag = f"tinyrun-test/{SUITE}-python:{_key(packages)}"
    probe = subprocess.run(["docker", "image", "inspect", tag], capture_output=True, check=False)
    if probe.returncode != 0:
        subprocess.run(
            ["docker", "import", str(rootfs_tarball(repo_root, packages)), tag], check=True, capture_output=True
        )
    return tag
