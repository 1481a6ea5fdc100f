"""Connections handed to Docker tasks as files, so no secret shows in `docker inspect`.

An environment variable of a container (``private_environment`` included) is part of its config:
anyone allowed to run ``docker inspect`` reads it. When the engine runs on this host, each try gets
instead a fresh folder on a tmpfs (never on disk): mode 0700, one file per connection (0400), all
owned by the runners' uid 65532. It is bind-mounted read-only at ``/run/secrets`` and the container
gets ``AIRFLOW_CONN_<ID>_FILE=/run/secrets/AIRFLOW_CONN_<ID>``, which every runner reads. The folder
is removed when the container ends, however it ends; folders left by a worker that was killed are
removed by the next task that starts on the host.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
from pathlib import Path

from . import policy

log = logging.getLogger(__name__)

MOUNT_POINT = "/run/secrets"
DEFAULT_BASE = "/dev/shm/tinyrun-secrets"
_MEMORY_FILESYSTEMS = frozenset({"tmpfs", "ramfs"})


class Unavailable(RuntimeError):
    """Files cannot be used here (no tmpfs, no permission to hand files to uid 65532)."""


def engine_is_local(docker_url: str) -> bool:
    """A unix socket means an engine on this host, which can bind-mount this host's files."""
    return docker_url.startswith(("unix://", "/"))


def _filesystem_type(path: Path) -> str:
    """Type of the filesystem holding ``path`` (longest mount point that contains it)."""
    best, kind = "", ""
    with open("/proc/self/mounts", encoding="utf-8") as mounts:
        for line in mounts:
            fields = line.split()
            if len(fields) < 3:
                continue
            point = fields[1].replace("\\040", " ")
            inside = str(path) == point or str(path).startswith(point.rstrip("/") + "/")
            if inside and len(point) > len(best):
                best, kind = point, fields[2]
    return kind


def _base_folder(base: str) -> Path:
    path = Path(base)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = path.resolve()
    if _filesystem_type(path) not in _MEMORY_FILESYSTEMS:
        raise Unavailable(f"{path} is not on a tmpfs (set TINYRUN_DOCKER_SECRETS_DIR to a tmpfs folder)")
    os.chmod(path, 0o700)
    return path


def _remove_orphans(base: Path) -> None:
    """Folders of workers that no longer run (a killed worker cannot clean up after itself)."""
    for entry in base.iterdir():
        pid = entry.name.split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(entry, ignore_errors=True)
        except PermissionError:
            pass  # alive, another user's


def create(values: dict[str, str], base: str = DEFAULT_BASE) -> Path:
    """A new folder holding ``values`` (name -> secret) as files; raises Unavailable."""
    root = _base_folder(base)
    _remove_orphans(root)
    folder = root / f"{os.getpid()}-{secrets.token_hex(8)}"
    folder.mkdir(mode=0o700)
    try:
        for name, value in values.items():
            fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o400)
            with os.fdopen(fd, "wb") as fh:
                os.fchown(fd, policy.RUN_AS_UID, policy.RUN_AS_GID)
                fh.write(value.encode("utf-8"))
        os.chown(folder, policy.RUN_AS_UID, policy.RUN_AS_GID)
    except PermissionError as exc:
        remove(folder)
        raise Unavailable(f"cannot hand files to uid {policy.RUN_AS_UID} ({exc}): run the worker as root") from exc
    except BaseException:
        remove(folder)
        raise
    return folder


def remove(folder: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(folder)


def file_environment(names: list[str]) -> dict[str, str]:
    """``NAME_FILE`` for each secret handed as a file."""
    return {f"{name}_FILE": f"{MOUNT_POINT}/{name}" for name in names}
