"""The datakit's own checks: every pipeline is valid and uses only the pinned runner images."""

import json
import re
from pathlib import Path

from tinyrun_dagfactory import parse_file, validate_paths
from tinyrun_dagfactory.images import RUNNER_IMAGES
from tinyrun_dagfactory.pipelines import pipeline_files

ROOT = Path(__file__).resolve().parent.parent


def test_pipelines_are_valid():
    count, errors = validate_paths([ROOT / "pipelines"])
    assert count > 0, "no pipeline files under pipelines/"
    assert not errors, "\n".join(map(str, errors))


def test_runners_lock_pins_exact_images():
    lock = json.loads((ROOT / "runners.lock").read_text())
    assert lock["images"], "runners.lock lists no images"
    for name, entry in lock["images"].items():
        assert entry["tag"] != "latest" and re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+\S*", entry["tag"]), name
        assert entry["image"].endswith(":" + entry["tag"]), name
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", entry["id"]), name


def test_every_runner_used_is_pinned():
    pinned = set(json.loads((ROOT / "runners.lock").read_text())["images"])
    for path in pipeline_files([ROOT / "pipelines"]):
        for task in parse_file(path).tasks.values():
            assert RUNNER_IMAGES[task.runner] in pinned, f"{path}: {task.id}: {task.runner} not in runners.lock"
