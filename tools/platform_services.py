#!/usr/bin/env python3
"""make platform-start / platform-stop: the platform services a developer runs locally.

    tools/platform_services.py start [--mocks]     start the ticket sharer (and the mocks), say what to do next
    tools/platform_services.py stop                stop and remove every container of the stack (volumes stay)

The stack is the docker-compose project TINYRUN_PLATFORM_PROJECT (tinyrun-platform) made of
compose/docker-compose.yml (the ticket sharer) and, with --mocks, compose/mocks.yml: a local MIT
KDC (realm TINYRUN.MOCK, user dev) and a PostgreSQL that accepts GSSAPI, in an image built here
from a debootstrap'd Debian root. With the mocks the files a developer needs are written to
TINYRUN_PLATFORM_DIR (build/platform): krb5.conf for the realm and the user's keytab (0600).

Nothing is left half-started: Docker is checked before anything starts, and a failed start is
rolled back with `down`. Starting twice is fine (compose keeps what already runs).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import debian_image

REPO = debian_image.REPO_ROOT
COMPOSE_DIR = REPO / "compose"
SHARER_FILE = COMPOSE_DIR / "docker-compose.yml"
MOCKS_FILE = COMPOSE_DIR / "mocks.yml"
MOCKS_CONTEXT = COMPOSE_DIR / "mocks"
MOCKS_PACKAGES = ("krb5-kdc", "krb5-admin-server", "krb5-user", "postgresql-15")
HEALTH_TIMEOUT_S = 120


class PlatformError(RuntimeError):
    """Stops the command: the message says what went wrong and what to do."""


def _env(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


@dataclass(frozen=True)
class Settings:
    project: str
    folder: Path  # krb5.conf and the mock user's keytab
    host_krb5_dir: Path
    version: str
    realm: str
    user: str
    kdc_port: str
    pg_port: str
    volume: str  # the ticket sharer's volume

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            project=_env("TINYRUN_PLATFORM_PROJECT", "tinyrun-platform"),
            folder=Path(_env("TINYRUN_PLATFORM_DIR", str(REPO / "build" / "platform"))).resolve(),
            host_krb5_dir=Path(_env("TINYRUN_HOST_KRB5_DIR", str(Path.home() / ".tinyrun" / "krb5"))).expanduser(),
            version=_env("TINYRUN_VERSION", (REPO / "VERSION").read_text().strip()),
            realm=_env("TINYRUN_MOCK_REALM", "TINYRUN.MOCK"),
            user=_env("TINYRUN_MOCK_USER", "dev"),
            kdc_port=_env("TINYRUN_MOCK_KDC_PORT", "18088"),
            pg_port=_env("TINYRUN_MOCK_PG_PORT", "15432"),
            volume=_env("TINYRUN_KRB5_VOLUME", "platform_kerberos_cache"),
        )

    @property
    def krb5_conf(self) -> Path:
        return self.folder / "krb5.conf"

    @property
    def keytab(self) -> Path:
        return self.folder / f"{self.user}.keytab"

    @property
    def sharer_image(self) -> str:
        return f"tinyrun/ticket-sharer:{self.version}"


def say(message: str) -> None:
    print(f"platform: {message}", flush=True)


def run(argv: list[str], env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def check_docker() -> None:
    if not shutil.which("docker") or not shutil.which("docker-compose"):
        raise PlatformError("docker and docker-compose must be installed (Debian: apt-get install docker.io docker-compose)")
    where = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    try:
        proc = run(["docker", "version", "--format", "{{.Server.Version}}"], timeout=20)
    except subprocess.TimeoutExpired:
        proc = None
    if proc is None or proc.returncode != 0:
        detail = proc.stderr.strip().splitlines()[-1] if proc is not None and proc.stderr.strip() else "no answer"
        raise PlatformError(
            f"the Docker engine at {where} does not answer ({detail}): start Docker, or point DOCKER_HOST at "
            "a running engine, then run the command again. Nothing was started."
        )


def mocks_image() -> str:
    """tinyrun-local/platform-mocks:<key>: the KDC and PostgreSQL image, built when missing."""
    root = debian_image.root_image(MOCKS_PACKAGES)
    h = hashlib.sha256(root.encode())
    for path in sorted(MOCKS_CONTEXT.iterdir()):
        h.update(path.name.encode() + path.read_bytes())
    tag = f"tinyrun-local/platform-mocks:{h.hexdigest()[:16]}"
    if not debian_image.image_exists(tag):
        say(f"building {tag} (MIT KDC + PostgreSQL 15 from Debian packages)")
        debian_image.build(MOCKS_CONTEXT, tag, {"ROOT": root})
    return tag


def write_krb5_conf(s: Settings) -> None:
    """The mock realm's krb5.conf for the host's kinit and for runner containers (host network)."""
    s.folder.mkdir(parents=True, exist_ok=True)
    text = (
        "# The mock realm of `make platform-start MOCKS=1` (written by tools/platform_services.py).\n"
        "[libdefaults]\n"
        f"    default_realm = {s.realm}\n"
        "    dns_lookup_kdc = false\n"
        "    dns_lookup_realm = false\n"
        "    rdns = false\n"
        "    dns_canonicalize_hostname = false\n"
        "    udp_preference_limit = 1\n"
        "[realms]\n"
        f"    {s.realm} = {{\n"
        f"        kdc = 127.0.0.1:{s.kdc_port}\n"
        "    }\n"
        "[domain_realm]\n"
        f"    localhost = {s.realm}\n"
    )
    tmp = s.krb5_conf.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.chmod(0o644)
    os.replace(tmp, s.krb5_conf)


class Stack:
    """docker-compose of the platform project with the settings as its environment."""

    def __init__(self, s: Settings, mocks_tag: str | None) -> None:
        self.s = s
        self.env = {
            **os.environ,
            "TINYRUN_VERSION": s.version,
            "TINYRUN_HOST_KRB5_DIR": str(s.host_krb5_dir),
            "TINYRUN_HOST_UID": os.environ.get("TINYRUN_HOST_UID") or str(os.getuid()),
            "TINYRUN_MOCKS_IMAGE": mocks_tag or "tinyrun-local/platform-mocks",
            "TINYRUN_MOCK_REALM": s.realm,
            "TINYRUN_MOCK_USER": s.user,
            "TINYRUN_MOCK_KDC_PORT": s.kdc_port,
            "TINYRUN_MOCK_PG_PORT": s.pg_port,
        }
        if mocks_tag:
            self.env["TINYRUN_KRB5_CONF"] = str(s.krb5_conf)

    def compose(self, *args: str, mocks: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        files = ["-f", str(SHARER_FILE)] + (["-f", str(MOCKS_FILE)] if mocks else [])
        return run(["docker-compose", "-p", self.s.project, *files, *args], env=self.env, timeout=timeout)

    def containers(self) -> list[str]:
        """Names of the project's containers, running or not."""
        proc = run(["docker", "ps", "-a", "--filter", f"label=com.docker.compose.project={self.s.project}",
                    "--format", "{{.Names}}"])
        return sorted(proc.stdout.split())

    def health(self, service: str) -> str:
        cid = self.compose("ps", "-q", service).stdout.strip()
        if not cid:
            return "missing"
        out = run(["docker", "inspect", "-f", "{{json .State}}", cid]).stdout
        state = json.loads(out or "{}")
        return (state.get("Health") or {}).get("Status") or state.get("Status", "unknown")

    def wait_healthy(self, service: str) -> None:
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        while (status := self.health(service)) != "healthy":
            if status in ("unhealthy", "exited", "dead", "missing") or time.monotonic() > deadline:
                logs = self.compose("logs", "--no-color", "--tail", "20", service).stdout
                raise PlatformError(f"{service} did not become healthy ({status}):\n{logs}")
            time.sleep(0.5)

    def export_keytab(self) -> None:
        """Copy the mock user's keytab out of the KDC's volume (0600, owned by whoever runs make)."""
        proc = subprocess.run(
            ["docker-compose", "-p", self.s.project, "-f", str(SHARER_FILE), "-f", str(MOCKS_FILE),
             "exec", "-T", "mock-kdc", "cat", f"/keytabs/{self.s.user}.keytab"],
            env=self.env, capture_output=True, timeout=60, check=False,
        )
        if proc.returncode != 0 or not proc.stdout:
            raise PlatformError(f"cannot read the mock user's keytab from mock-kdc: {proc.stderr.decode().strip()}")
        self.s.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.s.keytab.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(proc.stdout)
        os.replace(tmp, self.s.keytab)


def start(mocks: bool) -> None:
    s = Settings.from_env()
    check_docker()
    if not debian_image.image_exists(s.sharer_image):
        raise PlatformError(f"image {s.sharer_image} is not built: run `make images` first. Nothing was started.")
    mocks_tag = mocks_image() if mocks else None
    if mocks_tag:
        write_krb5_conf(s)
    elif not Path(os.environ.get("TINYRUN_KRB5_CONF") or "/etc/krb5.conf").is_file():
        raise PlatformError(
            "no krb5.conf for your realm: set TINYRUN_KRB5_CONF=/path/to/krb5.conf, or run "
            "`make platform-start MOCKS=1` for a local test realm. Nothing was started."
        )
    s.host_krb5_dir.mkdir(parents=True, exist_ok=True)
    stack = Stack(s, mocks_tag)
    up = stack.compose("up", "-d", "--remove-orphans", mocks=mocks)
    try:
        if up.returncode != 0:
            raise PlatformError(f"docker-compose up failed:\n{up.stderr.strip()}")
        if mocks:
            stack.wait_healthy("mock-postgres")
            stack.export_keytab()
    except (PlatformError, subprocess.SubprocessError) as exc:
        stack.compose("down", "--remove-orphans", "--timeout", "5")
        raise PlatformError(f"{exc}\nthe platform was stopped again: nothing is left running") from exc
    say(f"started {', '.join(stack.containers())} (docker-compose project {s.project})")
    say(f"the ticket sharer publishes the newest valid ticket in {s.host_krb5_dir} to the volume {s.volume}, "
        "which runner containers of `kerberos: true` tasks mount read-only")
    print(next_steps(s, mocks), flush=True)


def next_steps(s: Settings, mocks: bool) -> str:
    ccache = f"FILE:{s.host_krb5_dir}/krb5cc"
    if not mocks:
        return (
            "next:\n"
            f"  kinit -c {ccache} you@YOUR.REALM          # your ticket, shared within a second\n"
            f"  docker-compose -p {s.project} -f compose/docker-compose.yml ps   # ticket-sharer: healthy\n"
            "  make platform-stop                                   # when you are done"
        )
    return (
        f"mock realm {s.realm}: KDC on 127.0.0.1:{s.kdc_port}, user {s.user}@{s.realm} (keytab {s.keytab}),\n"
        f"PostgreSQL with GSSAPI on localhost:{s.pg_port}, database warehouse, role {s.user}\n"
        "next:\n"
        f"  export KRB5_CONFIG={s.krb5_conf}\n"
        f"  kinit -kt {s.keytab} -c {ccache} {s.user}@{s.realm}\n"
        f"  connection URI (no password: the ticket logs in):  postgres://{s.user}@localhost:{s.pg_port}/warehouse\n"
        "  a datakit's `kerberos: true` tasks reach it with these settings of its Airflow:\n"
        f"    AIRFLOW_CONN_WAREHOUSE=postgres://{s.user}@localhost:{s.pg_port}/warehouse\n"
        f"    TINYRUN_DOCKER_NETWORK_MODE=host TINYRUN_DOCKER_KRB5_CONF={s.krb5_conf}\n"
        + (f"    TINYRUN_DOCKER_KERBEROS_VOLUME={s.volume}\n" if s.volume != "platform_kerberos_cache" else "")
        + "  make platform-stop                                   # when you are done (the realm is kept)"
    )


def stop() -> None:
    s = Settings.from_env()
    check_docker()
    stack = Stack(s, None)
    before = stack.containers()
    down = stack.compose("down", "--remove-orphans", "--timeout", "10")
    if down.returncode != 0:
        raise PlatformError(f"docker-compose down failed:\n{down.stderr.strip()}")
    left = stack.containers()
    if left:
        raise PlatformError(f"still there after down: {', '.join(left)}")
    if before:
        say(f"stopped and removed {', '.join(before)}; the volumes (ticket cache, mock realm and database) are kept")
    else:
        say(f"nothing was running (docker-compose project {s.project})")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="platform", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    start_cmd = sub.add_parser("start", help="start the ticket sharer (and the mocks)")
    start_cmd.add_argument("--mocks", action="store_true", help="add a local KDC and a GSSAPI PostgreSQL")
    sub.add_parser("stop", help="stop and remove the platform's containers")
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            start(args.mocks)
        else:
            stop()
    except (PlatformError, debian_image.ImageError) as exc:
        print(f"platform: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
