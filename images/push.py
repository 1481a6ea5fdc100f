#!/usr/bin/env python3
"""Push every image of build/images.lock.json to a registry and record its digest in the lock.

usage: push.py REGISTRY LOCK      (REGISTRY: host:port[/prefix], as in `make push REGISTRY=...`)

Each image is tagged REGISTRY/tinyrun/<runner>:<version> and pushed; its entry in the lock gains
"digest": the full pullable reference REGISTRY/tinyrun/<runner>@sha256:<hex>, which Kubernetes can
pin (a local image ID it cannot). The lock is rewritten only when every push succeeded.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

REGISTRY_RE = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*$")


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True).stdout


def push(registry: str, runner: str, entry: dict[str, str]) -> str:
    """Push one image; return its digest reference."""
    repo = f"{registry}/tinyrun/{runner}"
    remote = f"{repo}:{entry['tag']}"
    docker("tag", entry["id"], remote)
    print(f"push: {remote}", file=sys.stderr)
    docker("push", "-q", remote)
    digests = json.loads(docker("image", "inspect", "-f", "{{json .RepoDigests}}", remote))
    ours = [d for d in digests if d.startswith(repo + "@sha256:")]
    if len(ours) != 1:
        raise SystemExit(f"push: no single digest for {repo} after the push: {digests}")
    return ours[0]


def main(registry: str, lock_path: str) -> int:
    registry = registry.rstrip("/")
    if not REGISTRY_RE.match(registry):
        print(f"push: REGISTRY must be host:port[/prefix], not {registry!r}", file=sys.stderr)
        return 2
    lock_file = Path(lock_path)
    lock = json.loads(lock_file.read_text())
    for runner, entry in sorted(lock["images"].items()):
        entry["digest"] = push(registry, runner, entry)
        print(f"push: {entry['digest']}", file=sys.stderr)
    tmp = lock_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(lock, indent=2, sort_keys=True) + "\n")
    tmp.replace(lock_file)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
