"""The generated image table: built by make from images.lock.json, and what it says without one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FAKE_ID, REPO, write_lock
from tinyrun_dagfactory import imagegen
from tinyrun_dagfactory.images import GENERATED_TABLE, ImageTableError, load_table

GEN = REPO / "dagfactory" / "src" / "tinyrun_dagfactory" / "imagegen.py"


def _make(tmp_path: Path, build: Path) -> subprocess.CompletedProcess[str]:
    mk = tmp_path / "t.mk"
    out = tmp_path / "table.json"
    mk.write_text(
        f"TOP := {REPO}\nBUILD := {build}\ninclude {REPO}/dagfactory/dagfactory.mk\n"
        f"DAGFACTORY_GENERATED := {out}\n"  # same rule, output redirected so the real table is untouched
        f"all:\n\tpython3 {GEN} $(BUILD)/images.lock.json {out}\n"
    )
    return subprocess.run(["make", "-s", "-f", str(mk), "all"], capture_output=True, text=True, check=True)


def test_table_without_a_lock_says_no_images_built(tmp_path: Path) -> None:
    _make(tmp_path, tmp_path / "nobuild")
    table = json.loads((tmp_path / "table.json").read_text())
    assert table == {"built": False, "version": "", "revision": "", "images": {}}
    with pytest.raises(ImageTableError, match=r"no runner images built yet .* run `make images`"):
        load_table(tmp_path / "table.json").for_runner("postgres")


def test_table_from_a_lock_pins_tag_and_id(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    write_lock(tmp_path / "b" / "images.lock.json")
    first = _make(tmp_path, tmp_path / "b")
    assert "written" in first.stdout
    mtime = (tmp_path / "table.json").stat().st_mtime_ns
    again = _make(tmp_path, tmp_path / "b")
    assert again.stdout == ""  # unchanged: not rewritten, nothing said
    assert (tmp_path / "table.json").stat().st_mtime_ns == mtime
    ref = load_table(tmp_path / "table.json").for_runner("postgres")
    assert (ref.image, ref.tag, ref.id) == ("tinyrun/postgres-runner:0.1.0", "0.1.0", FAKE_ID)
    with pytest.raises(ImageTableError, match=r"'dbt-runner' is not in .* \(built: postgres-runner\)"):
        load_table(tmp_path / "table.json").for_runner("dbt")
    assert ref.digest is None  # not pushed: Docker and Kubernetes both use the tag (and check the ID)


def test_registry_digest_rides_along(tmp_path: Path) -> None:
    digest = f"127.0.0.1:5000/tinyrun/postgres-runner@{FAKE_ID}"
    (tmp_path / "b").mkdir()
    write_lock(tmp_path / "b" / "images.lock.json", digests={"postgres-runner": digest})
    _make(tmp_path, tmp_path / "b")
    ref = load_table(tmp_path / "table.json").for_runner("postgres")
    assert (ref.image, ref.id, ref.digest) == ("tinyrun/postgres-runner:0.1.0", FAKE_ID, digest)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"image": "tinyrun/x:latest", "tag": "latest", "id": FAKE_ID}, "not a semver tag"),
        ({"image": "tinyrun/x:0.2.0", "tag": "0.1.0", "id": FAKE_ID}, "does not carry tag"),
        ({"image": "tinyrun/x:0.1.0", "tag": "0.1.0", "id": "abc"}, "is not sha256"),
        ({"image": "tinyrun/x:0.1.0", "tag": "0.1.0", "id": FAKE_ID, "digest": "tinyrun/x:0.1.0"}, "digest"),
        (
            {"image": "tinyrun/x:0.1.0", "tag": "0.1.0", "id": FAKE_ID, "digest": f"r:5000/tinyrun/y@{FAKE_ID}"},
            "digest",
        ),
    ],
)
def test_lock_entries_are_checked(entry: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        imagegen.table_from_lock({"images": {"x": entry}})


def test_generated_table_matches_this_builds_lock(images_lock: dict) -> None:
    """After `make images` (and `make`), the package's table is exactly build/images.lock.json."""
    subprocess.run(
        [sys.executable, str(GEN), str(REPO / "build" / "images.lock.json"), str(GENERATED_TABLE)],
        check=True,
        capture_output=True,
    )
    table = json.loads(GENERATED_TABLE.read_text())
    assert table["built"] is True
    keys = ("image", "tag", "id", "digest")  # digest: after `make push`
    assert table["images"] == {n: {k: e[k] for k in keys if k in e} for n, e in images_lock["images"].items()}
