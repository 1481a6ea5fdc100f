#!/usr/bin/env python3
"""Build the tinyrun-dagfactory wheel that datakits pin by hash (stdlib only; run by `make`).

    python3 dagfactory/build_wheel.py DAGFACTORY_DIR OUT_DIR

The wheel is reproducible: sorted entries, one fixed timestamp, fixed permissions, and only the
package's source files (no image_table.json: a datakit pins its images in its own runners.lock, and
the table changes with every `make images`). The same sources give the same bytes, hence the same
sha256 in every datakit generated from them. Metadata comes from pyproject.toml ([project]).
"""

from __future__ import annotations

import base64
import hashlib
import os
import sys
import tempfile
import zipfile
from pathlib import Path

import tomllib

TIMESTAMP = (1980, 1, 1, 0, 0, 0)  # the earliest a zip file can hold
PACKAGE_DATA = ("*.py", "py.typed", "schema/*.json")
WHEEL = "Wheel-Version: 1.0\nGenerator: tinyrun build_wheel.py\nRoot-Is-Purelib: true\nTag: py3-none-any\n"


def _metadata(project: dict) -> str:
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {project['version']}",
        f"Summary: {project.get('description', '')}",
        f"Requires-Python: {project.get('requires-python', '')}",
        f"License: {project.get('license', {}).get('text', '')}",
    ]
    lines += [f"Requires-Dist: {dep}" for dep in project.get("dependencies", [])]
    for extra, deps in sorted(project.get("optional-dependencies", {}).items()):
        lines.append(f"Provides-Extra: {extra}")
        lines += [f'Requires-Dist: {dep}; extra == "{extra}"' for dep in deps]
    return "\n".join(lines) + "\n"


def _entry_points(project: dict) -> str:
    scripts = project.get("scripts", {})
    return "[console_scripts]\n" + "".join(f"{name} = {target}\n" for name, target in sorted(scripts.items()))


def _package_files(src: Path) -> list[Path]:
    found = {p for pattern in PACKAGE_DATA for p in src.rglob(pattern) if "__pycache__" not in p.parts}
    return sorted(found)


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}\n"


def build(root: Path, out_dir: Path) -> Path:
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    dist = project["name"].replace("-", "_")
    package = root / "src" / dist
    info = f"{dist}-{project['version']}.dist-info"
    entries = {f"{dist}/{p.relative_to(package).as_posix()}": p.read_bytes() for p in _package_files(package)}
    entries[f"{info}/METADATA"] = _metadata(project).encode()
    entries[f"{info}/WHEEL"] = WHEEL.encode()
    entries[f"{info}/entry_points.txt"] = _entry_points(project).encode()
    entries[f"{info}/top_level.txt"] = f"{dist}\n".encode()
    record = "".join(_record_line(n, d) for n, d in sorted(entries.items())) + f"{info}/RECORD,,\n"
    entries[f"{info}/RECORD"] = record.encode()

    out_dir.mkdir(parents=True, exist_ok=True)
    wheel = out_dir / f"{dist}-{project['version']}-py3-none-any.whl"
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=f".{wheel.name}.")
    with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(entries, key=lambda n: (n.startswith(info), n)):  # dist-info last, RECORD too
            item = zipfile.ZipInfo(name, TIMESTAMP)
            item.external_attr = 0o644 << 16
            item.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(item, entries[name])
    os.chmod(tmp, 0o644)
    os.replace(tmp, wheel)
    return wheel


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    print(build(Path(argv[1]), Path(argv[2])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
