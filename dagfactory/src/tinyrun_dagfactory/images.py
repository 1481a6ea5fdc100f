"""The image table: which image (exact tag and image ID) each runner uses.

Sources, first match wins:
  1. an explicit lock file given to the loader (a datakit's ``runners.lock``),
  2. ``TINYRUN_IMAGES_LOCK`` (path to an images.lock.json / runners.lock),
  3. the table generated into this package by ``make`` from build/images.lock.json.
Nobody types an image name: pipelines name a runner, this module maps it to the built image.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from . import imagegen

# runner (YAML) -> image name (images.lock.json key)
RUNNER_IMAGES = {
    "postgres": "postgres-runner",
    "sqlserver": "sqlserver-runner",
    "python": "python-launcher",
    "dbt": "dbt-runner",
    "spark": "spark-submit",
    "deploy-model": "model-deployer",
}

# Runners whose tasks run in the team's own image (the shim copied in as ENTRYPOINT), pinned in the task.
TEAM_IMAGE_RUNNERS = ("python", "dbt", "spark")

GENERATED_TABLE = Path(__file__).with_name("image_table.json")

# How a python task pins the team's runtime image: a local image ID, or a registry digest.
IMAGE_ID = re.compile(r"^sha256:[0-9a-f]{64}$")
IMAGE_DIGEST = re.compile(r"^[^\s@]+@sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class ImageRef:
    name: str  # e.g. postgres-runner
    image: str  # repository:tag, e.g. tinyrun/postgres-runner:0.1.0
    tag: str
    id: str  # sha256:... (the local image ID: what Docker checks)
    digest: str | None = None  # registry/.../name@sha256:... after `make push` (what Kubernetes pulls)


class ImageTableError(LookupError):
    pass


@dataclass(frozen=True)
class ImageTable:
    source: str
    built: bool
    version: str
    images: dict[str, ImageRef]

    def for_runner(self, runner: str) -> ImageRef:
        name = RUNNER_IMAGES[runner]
        ref = self.images.get(name)
        if ref is None:
            if not self.built:
                raise ImageTableError(f"no runner images built yet ({self.source}): run `make images`")
            built = ", ".join(sorted(self.images)) or "none"
            raise ImageTableError(f"image {name!r} is not in {self.source} (built: {built})")
        return ref


def _from_doc(doc: dict, source: str) -> ImageTable:
    table = doc if "built" in doc else imagegen.table_from_lock(doc)
    images = {
        name: ImageRef(name=name, image=e["image"], tag=e["tag"], id=e["id"], digest=e.get("digest"))
        for name, e in table["images"].items()
    }
    return ImageTable(source=source, built=bool(table["built"]), version=table["version"], images=images)


@lru_cache(maxsize=16)
def _load(path: str) -> ImageTable:
    p = Path(path)
    if not p.exists():
        if p == GENERATED_TABLE:
            return _from_doc(imagegen.empty_table(), "the generated image table (missing: run `make`)")
        raise ImageTableError(f"image lock {path} does not exist")
    return _from_doc(json.loads(p.read_text(encoding="utf-8")), str(p))


def load_table(lock: str | os.PathLike[str] | None = None) -> ImageTable:
    if lock is not None:
        return _load(str(Path(lock).resolve()))
    env = os.environ.get("TINYRUN_IMAGES_LOCK", "").strip()
    if env:
        return _load(str(Path(env).resolve()))
    return _load(str(GENERATED_TABLE))


def team_image(image: str) -> ImageRef:
    """A python or dbt task's runtime image (already checked to be pinned: checks.team_image_tasks)."""
    if IMAGE_ID.match(image):
        return ImageRef(name="team", image=image, tag="", id=image)
    return ImageRef(name="team", image=image, tag="", id="", digest=image)
