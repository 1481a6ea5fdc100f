#!/usr/bin/env python3
"""Write build/images.lock.json from the image ID files that make images produced.

usage: write-lock.py VERSION REVISION build/images/<runner>.id...
"""

import json
import sys
from pathlib import Path


def main(version: str, revision: str, id_files: list[str]) -> None:
    images = {}
    for f in map(Path, id_files):
        runner = f.name.removesuffix(".id")
        images[runner] = {"image": f"tinyrun/{runner}:{version}", "tag": version, "id": f.read_text().strip()}
    print(json.dumps({"version": version, "revision": revision, "images": images}, indent=2, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
