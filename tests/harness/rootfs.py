"""A Debian runtime image with python3 for the tests (a team's runtime image, as a team would build it).

``runtime_image(repo_root, packages)`` is tools/debian_image.py's debootstrap'd bookworm
(``--variant=minbase`` plus ``packages``), cached as build/rootfs/bookworm-<key>.tar.gz and imported
once: the same root the platform's stand-in images start from, built by one piece of code.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

PACKAGES = ("python3-minimal",)


def _debian_image(repo_root: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("debian_image", repo_root / "tools" / "debian_image.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def runtime_image(repo_root: Path, packages: tuple[str, ...] = PACKAGES) -> str:
    """The local image whose root holds ``packages`` (default: python3-minimal); its tag.
    ``packages`` replaces the default list (e.g. python3-venv for an image that builds a venv)."""
    tag: str = _debian_image(repo_root).root_image(packages)
    return tag
