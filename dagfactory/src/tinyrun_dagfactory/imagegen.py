"""Generate the package's image table from build/images.lock.json (stdlib only; run by `make`).

    python3 imagegen.py LOCK_PATH OUT_PATH [-v]

When LOCK_PATH does not exist (no `make images` yet) the table is written with ``"images": {}``
and ``"built": false``: the factory then refuses to build DAGs for runners and says to run
`make images`. OUT_PATH is rewritten only when its content changes (keeps make and editors calm).
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from pathlib import Path

_TAG = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$")
_ID = re.compile(r"^sha256:[0-9a-f]{64}$")
# A pullable registry reference recorded by `make push`: HOST:PORT[/PREFIX]/tinyrun/<name>@sha256:<hex>
_DIGEST = re.compile(r"^[^\s@]+/(?P<name>[a-z0-9._-]+)@sha256:[0-9a-f]{64}$")


def table_from_lock(lock: dict) -> dict:
    """Check a lock document and turn it into the image table (same data, checked, sorted)."""
    images = lock.get("images")
    if not isinstance(images, dict):
        raise ValueError("images.lock.json: 'images' must be an object")
    out: dict[str, dict[str, str]] = {}
    for name in sorted(images):
        entry = images[name]
        image, tag, image_id = entry.get("image"), entry.get("tag"), entry.get("id")
        if not (isinstance(image, str) and isinstance(tag, str) and isinstance(image_id, str)):
            raise ValueError(f"images.lock.json: {name}: needs string image, tag and id")
        if not _TAG.match(tag) or tag == "latest":
            raise ValueError(f"images.lock.json: {name}: tag {tag!r} is not a semver tag")
        if not image.endswith(":" + tag):
            raise ValueError(f"images.lock.json: {name}: image {image!r} does not carry tag {tag!r}")
        if not _ID.match(image_id):
            raise ValueError(f"images.lock.json: {name}: id {image_id!r} is not sha256:<64 hex>")
        out[name] = {"image": image, "tag": tag, "id": image_id}
        digest = entry.get("digest")
        if digest is not None:
            m = _DIGEST.match(digest) if isinstance(digest, str) else None
            if not m or m.group("name") != name:
                raise ValueError(
                    f"images.lock.json: {name}: digest {digest!r} is not <registry>/.../{name}@sha256:<hex>"
                )
            out[name]["digest"] = digest
    return {
        "built": True,
        "version": str(lock.get("version", "")),
        "revision": str(lock.get("revision", "")),
        "images": out,
    }


def empty_table() -> dict:
    return {"built": False, "version": "", "revision": "", "images": {}}


def write_if_changed(path: Path, text: str) -> bool:
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return True


def main(argv: list[str]) -> int:
    verbose = "-v" in argv[1:]
    paths = [a for a in argv[1:] if a != "-v"]
    if len(paths) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    lock_path, out_path = Path(paths[0]), Path(paths[1])
    try:
        table = table_from_lock(json.loads(lock_path.read_text())) if lock_path.exists() else empty_table()
    except (ValueError, json.JSONDecodeError) as exc:
        print(f"imagegen: {exc}", file=sys.stderr)
        return 1
    text = json.dumps(table, indent=2, sort_keys=True) + "\n"
    changed = write_if_changed(out_path, text)
    state = f"{len(table['images'])} image(s)" if table["built"] else "no images built yet"
    if changed or verbose:
        print(f"imagegen: {out_path} {'written' if changed else 'unchanged'} ({state})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
