#!/usr/bin/env python3
"""The stand-in Airflow base image (tools/airflow-standin/Dockerfile), cached under build/.

    tools/airflow_standin.py            print its tag, building what is missing:

1. the Airflow wheels: the packages of tools/airflow-standin/requirements.txt (Airflow, the docker
   provider, the PostgreSQL drivers) resolved within the pins of dagfactory/requirements.txt and
   tests/requirements.txt, downloaded (and built where PyPI has no wheel) once by build/venv's pip
   into build/airflow-wheels/<key>/;
2. the root: a debootstrap'd bookworm with python3 (tools/debian_image.py, build/rootfs/);
3. the image ``tinyrun-local/airflow-standin:<key>``, the key hashing the wheels, the root and the
   Dockerfile, so an unchanged input is never rebuilt.

Pass the tag as AIRFLOW_IMAGE to a datakit's compose stack (`make compose-up`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import debian_image

REPO = debian_image.REPO_ROOT
CONTEXT_DOCKERFILE = REPO / "tools" / "airflow-standin" / "Dockerfile"
WHEELS = REPO / "build" / "airflow-wheels"
PIP_PYTHON = Path(os.environ.get("TINYRUN_PIP_PYTHON", REPO / "build" / "venv" / "bin" / "python"))
ROOT_PACKAGES = ("python3", "python3-venv")
TOP_LEVEL = REPO / "tools" / "airflow-standin" / "requirements.txt"
CONSTRAINTS = (REPO / "dagfactory" / "requirements.txt", REPO / "tests" / "requirements.txt")


def _requirements(path: Path) -> list[str]:
    return [r for r in (line.split("#", 1)[0].strip() for line in path.read_text().splitlines()) if r]


def _pins() -> list[str]:
    """The stand-in's top-level packages, each with an exact version."""
    pinned = {}
    for path in CONSTRAINTS:
        for req in _requirements(path):
            name, _, version = req.partition("==")
            pinned[name.lower().replace("_", "-")] = version
    pins, missing = [], []
    for req in _requirements(TOP_LEVEL):
        if "==" in req:
            pins.append(req)
        elif req.lower() in pinned:
            pins.append(f"{req}=={pinned[req.lower()]}")
        else:
            missing.append(req)
    if missing:
        raise debian_image.ImageError(f"{', '.join(missing)}: no exact pin in {TOP_LEVEL} or the constraint files")
    return pins


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()[:16]


def wheels() -> Path:
    """build/airflow-wheels/<key>/: every wheel the image installs (made once)."""
    pins = _pins()
    key = _digest("\n".join(pins).encode(), *(p.read_bytes() for p in CONSTRAINTS))
    out = WHEELS / key
    done = WHEELS / f"{key}.complete"  # beside the folder: the folder is exactly the build context
    if done.exists():
        return out
    if not PIP_PYTHON.exists():
        raise debian_image.ImageError(f"{PIP_PYTHON} is missing: run `make venv` first")
    WHEELS.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="wheels-", dir=WHEELS))
    try:
        print(f"downloading the Airflow wheels once into {out}", file=sys.stderr)
        argv = [str(PIP_PYTHON), "-m", "pip", "wheel", "-q", "--disable-pip-version-check", "-w", str(work), *pins]
        for path in CONSTRAINTS:
            argv += ["-c", str(path)]
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise debian_image.ImageError(f"pip wheel {' '.join(pins)} failed: {proc.stderr[-3000:]}")
        shutil.rmtree(out, ignore_errors=True)
        os.replace(work, out)
        done.write_text("\n".join(pins) + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def image() -> str:
    """The stand-in's tag, built when missing."""
    wheel_dir = wheels()
    root = debian_image.root_image(ROOT_PACKAGES)
    key = _digest(wheel_dir.name.encode(), root.encode(), CONTEXT_DOCKERFILE.read_bytes())
    tag = f"tinyrun-local/airflow-standin:{key}"
    if not debian_image.image_exists(tag):
        print(f"building {tag} (Airflow from {wheel_dir})", file=sys.stderr)
        debian_image.build(wheel_dir, tag, {"ROOT": root}, dockerfile=CONTEXT_DOCKERFILE)
    return tag


def main() -> int:
    try:
        print(image())
    except debian_image.ImageError as exc:
        print(f"airflow_standin: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
