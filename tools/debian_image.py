#!/usr/bin/env python3
"""Local Docker images from a debootstrap'd Debian root, for machines that cannot pull images.

``root_image(packages)`` debootstraps bookworm (``--variant=minbase`` plus PACKAGES) once, caches
the root as build/rootfs/bookworm-<key>.tar.gz (the key hashes suite, variant and packages) and
``docker import``s it as ``tinyrun-local/bookworm:<key>``; a later call only imports the cached
tarball, or does nothing when the image is still there. ``build(context, tag, root)`` then runs
``docker build`` of a folder's Dockerfile with ``--build-arg ROOT=<that image>``. The archive comes
from this machine's apt configuration: no host name is written here.

    tools/debian_image.py root PACKAGE...          print the root image's tag (build it if needed)
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SUITE = "bookworm"
VARIANT = "minbase"
REPO_ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("TINYRUN_ROOTFS_CACHE", REPO_ROOT / "build" / "rootfs"))


class ImageError(RuntimeError):
    """A root or an image could not be built; the message says why and what to do."""


def _key(packages: tuple[str, ...]) -> str:
    text = "\n".join([SUITE, VARIANT, *sorted(packages)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _deb822_uri(text: str) -> str | None:
    for stanza in text.split("\n\n"):
        fields = dict(
            line.split(":", 1) for line in stanza.splitlines() if ":" in line and not line.startswith("#")
        )
        if "deb" in fields.get("Types", "").split() and SUITE in fields.get("Suites", "").split():
            return fields["URIs"].split()[0]
    return None


def _one_line_uri(text: str) -> str | None:
    for line in text.splitlines():
        parts = [p for p in line.split() if not p.startswith("[")]
        if len(parts) >= 3 and parts[0] == "deb" and parts[2] == SUITE:
            return parts[1]
    return None


def apt_mirror() -> str:
    """The URI of the first deb source of SUITE in this machine's apt configuration."""
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for path in sources:
        if path.is_file():
            parse = _deb822_uri if path.suffix == ".sources" else _one_line_uri
            uri = parse(path.read_text())
            if uri:
                return uri
    raise ImageError(f"no apt source for {SUITE} in /etc/apt: cannot debootstrap a root")


def _debootstrap(packages: tuple[str, ...], out: Path) -> None:
    if not shutil.which("debootstrap"):
        raise ImageError("debootstrap is not installed: `apt-get install debootstrap` (make test does)")
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="rootfs-", dir=out.parent))
    root = work / "root"
    try:
        argv = ["debootstrap", f"--variant={VARIANT}", SUITE, str(root), apt_mirror()]
        if packages:
            argv.insert(2, f"--include={','.join(sorted(packages))}")
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise ImageError(f"debootstrap {' '.join(packages)} failed: {proc.stdout[-2000:]}{proc.stderr[-2000:]}")
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            shutil.rmtree(root / cache, ignore_errors=True)
        tmp = work / "rootfs.tar.gz"
        subprocess.run(["tar", "-C", str(root), "--one-file-system", "--numeric-owner", "-czf", str(tmp), "."], check=True)
        os.replace(tmp, out)
    finally:
        # debootstrap mounts proc and sys in the root while it works: never delete through them
        for mount in ("proc", "sys", "dev/pts"):
            subprocess.run(["umount", "-l", str(root / mount)], capture_output=True, check=False)
        shutil.rmtree(work, ignore_errors=True)


def image_exists(ref: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", ref], capture_output=True, check=False).returncode == 0


def root_image(packages: tuple[str, ...]) -> str:
    """The tag of the imported root holding PACKAGES, debootstrapped and cached when missing."""
    key = _key(packages)
    tag = f"tinyrun-local/{SUITE}:{key}"
    if image_exists(tag):
        return tag
    tarball = CACHE / f"{SUITE}-{key}.tar.gz"
    if not tarball.exists():
        print(f"debootstrap {SUITE} + {' '.join(sorted(packages))} (once, cached in {tarball})", file=sys.stderr)
        _debootstrap(packages, tarball)
    proc = subprocess.run(["docker", "import", str(tarball), tag], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ImageError(f"docker import {tarball} failed: {proc.stderr.strip()}")
    return tag


def build(context: Path, tag: str, build_args: dict[str, str], dockerfile: Path | None = None, quiet: bool = True) -> None:
    """``docker build`` CONTEXT as TAG (the legacy builder: no BuildKit features are used)."""
    argv = ["docker", "build", "-t", tag]
    if dockerfile is not None:
        argv += ["-f", str(dockerfile)]
    for name, value in build_args.items():
        argv += ["--build-arg", f"{name}={value}"]
    if quiet:
        argv.append("-q")
    proc = subprocess.run([*argv, str(context)], capture_output=quiet, text=True, check=False)
    if proc.returncode != 0:
        detail = (proc.stdout or "")[-3000:] + (proc.stderr or "")[-3000:] if quiet else ""
        raise ImageError(f"docker build {context} failed{': ' + detail if detail else ''}")


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] != "root":
        print(__doc__, file=sys.stderr)
        return 2
    try:
        print(root_image(tuple(argv[2:])))
    except ImageError as exc:
        print(f"debian_image: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
