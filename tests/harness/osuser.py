"""Run server programs as an unprivileged system user when the tests run as root.

PostgreSQL refuses to run as root. When the test session runs as root, server commands are
prefixed with ``runuser -u USER --`` and the files they own are chowned to that user; when it
runs as an ordinary user, commands run as that user and nothing is chowned.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path


def is_root() -> bool:
    """True when this process runs as uid 0."""
    return os.geteuid() == 0


def ensure_system_user(name: str) -> None:
    """Create the system user NAME if it does not exist (root only; no-op otherwise)."""
    if not is_root():
        return
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
        )


def as_user(name: str, argv: list[str]) -> list[str]:
    """argv prefixed so that it runs as NAME when we are root, unchanged otherwise."""
    if not is_root():
        return argv
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    return [runuser, "-u", name, "--", *argv]


def give_to(name: str, *paths: Path) -> None:
    """chown each path (recursively for folders) to NAME when we are root."""
    if not is_root():
        return
    entry = pwd.getpwnam(name)
    for path in paths:
        targets = [path]
        if path.is_dir():
            targets += list(path.rglob("*"))
        for target in targets:
            os.chown(target, entry.pw_uid, entry.pw_gid, follow_symlinks=False)
