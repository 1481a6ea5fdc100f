"""Session fixtures shared by every tinyrun integration test.

Servers start once per session, lazily (only when a test asks for them), on loopback, in one
temporary folder that is removed at the end (set TINYRUN_KEEP_TMP=1 to keep it for debugging):

- ``repo_root``, ``bin_dir``, ``images_lock``: where the build put things;
- ``kdc``: an MIT KDC (:class:`harness.kdc.Kdc`), realm TINYRUN.TEST;
- ``pg``: a PostgreSQL cluster (:class:`harness.pgcluster.PgCluster`) with password, TLS and
  GSSAPI authentication;
- ``alice``: the Kerberos user the cluster maps to role ``alice`` (password, keytab, ticket);
- ``run_runner`` / ``docker_run``: run a binary with a clean environment / an image the
  DockerOperator way (see :mod:`harness.runner`, :mod:`harness.docker`);
- ``open_tmp``: a per-test folder that the postgres user and container uid 65532 may use;
- ``pg_db``: a fresh database owned by ``tinyrun`` for one test, dropped afterwards;
- ``postgres_runner`` / ``postgres_runner_image``: the postgres-runner binary as a callable,
  and its image reference from build/images.lock.json;
- ``tds``: the TDS 7.4 test server (tests/tds) on loopback in front of ``pg``, with Kerberos.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from harness import docker as hdocker
from harness import runner as hrunner
from harness.kdc import Kdc, KerberosUser
from harness.pgcluster import PgCluster
from harness.result import RunResult
from tds.fixture import start_tds_server
from tds.server import TdsServer

ALICE_PASSWORD = "alice-Secret-1"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root (the folder holding the Makefile)."""
    return hrunner.REPO_ROOT


@pytest.fixture(scope="session")
def bin_dir() -> Path:
    """Where the runners are: $TINYRUN_BIN_DIR or build/bin."""
    return hrunner.default_bin_dir()


@pytest.fixture(scope="session")
def images_lock(repo_root: Path) -> dict[str, Any]:
    """build/images.lock.json, as written by ``make images``."""
    path = repo_root / "build" / "images.lock.json"
    if not path.exists():
        pytest.fail(
            f"{path} is missing: run `make images` first (make test does)",
            pytrace=False,
        )
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        pytest.fail(f"{path} is not valid JSON: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def session_tmp() -> Iterator[Path]:
    """One folder for the session's servers and files, traversable by other users."""
    base = Path(
        tempfile.mkdtemp(prefix="tinyrun-test-", dir=os.environ.get("TINYRUN_TEST_TMP"))
    )
    base.chmod(0o755)
    yield base
    if not os.environ.get("TINYRUN_KEEP_TMP"):
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def open_tmp(session_tmp: Path) -> Path:
    """A fresh per-test folder (mode 0777) the postgres user and container uid 65532 can use."""
    path = session_tmp / "t" / secrets.token_hex(6)
    path.mkdir(parents=True)
    path.parent.chmod(0o755)
    path.chmod(0o777)
    return path


@pytest.fixture(scope="session")
def kdc(session_tmp: Path) -> Iterator[Kdc]:
    """An MIT KDC on 127.0.0.1 (realm TINYRUN.TEST), stopped at the end of the session."""
    server = Kdc(session_tmp / "kdc")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg(session_tmp: Path, kdc: Kdc) -> Iterator[PgCluster]:
    """A PostgreSQL cluster on 127.0.0.1 with password, TLS and GSSAPI auth."""
    cluster = PgCluster(session_tmp / "pg", kdc)
    try:
        cluster.start()
    except Exception:
        cluster.stop()
        raise
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def tds(pg: PgCluster, kdc: Kdc, session_tmp: Path) -> Iterator[TdsServer]:
    """The TDS 7.4 test server (:mod:`tds.server`) on 127.0.0.1, executing on ``pg``."""
    folder = session_tmp / "tds"
    folder.mkdir(exist_ok=True)
    server = start_tds_server(pg, folder, kdc)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def alice(kdc: Kdc, session_tmp: Path) -> KerberosUser:
    """alice@REALM (PostgreSQL role alice) with a keytab and a 10-hour ticket.

    Files are world-readable so a container running as uid 65532 can use them; tests must not
    destroy the ticket cache (kinit into a cache of their own instead).
    """
    folder = session_tmp / "alice"
    folder.mkdir()
    folder.chmod(0o755)
    principal = kdc.add_principal("alice", ALICE_PASSWORD)
    keytab = kdc.keytab(principal, folder / "alice.keytab")
    ccache = folder / "krb5cc"
    kdc.kinit(principal, ccache, password=ALICE_PASSWORD, lifetime="10h")
    for path in (keytab, ccache):
        path.chmod(0o644)
    return KerberosUser(principal, ALICE_PASSWORD, keytab, ccache, kdc.krb5_conf)


@pytest.fixture(scope="session")
def alice_expired_ccache(kdc: Kdc, alice: KerberosUser, session_tmp: Path) -> Path:
    """A world-readable ticket cache for alice whose TGT has expired."""
    path = session_tmp / "alice" / "krb5cc-expired"
    kdc.expired_ccache(alice.principal, path, alice.password)
    path.chmod(0o644)
    return path


@pytest.fixture
def pg_db(pg: PgCluster) -> Iterator[str]:
    """A fresh database owned by tinyrun, for tests that create tables; dropped afterwards."""
    name = pg.create_db(f"t_{secrets.token_hex(5)}")
    yield name
    pg.drop_db(name)


@pytest.fixture(scope="session")
def run_runner(bin_dir: Path) -> Callable[..., RunResult]:
    """``run_runner(name, args, env=None, stdin=None, timeout=60, stdout_path=None)``."""

    def run(name: str, args: list[str], **kwargs: Any) -> RunResult:
        path = hrunner.runner_path(name, bin_dir)
        if not path.exists():
            pytest.fail(
                f"{path} is missing: run `make` first (make test does)", pytrace=False
            )
        return hrunner.run_runner(name, args, bin_dir=bin_dir, **kwargs)

    return run


@pytest.fixture(scope="session")
def docker_run() -> Callable[..., RunResult]:
    """``docker_run(image, args, env=None, mounts=None, stdin=None, timeout=120, ...)``."""
    if not hdocker.docker_available():
        pytest.fail(
            "the docker engine does not answer (`docker info` fails)", pytrace=False
        )
    return hdocker.docker_run


@pytest.fixture(scope="session")
def postgres_runner(run_runner: Callable[..., RunResult]) -> Callable[..., RunResult]:
    """``postgres_runner(args, env=None, stdin=None, timeout=60, stdout_path=None)``."""

    def run(args: list[str], **kwargs: Any) -> RunResult:
        return run_runner("postgres-runner", args, **kwargs)

    return run


@pytest.fixture(scope="session")
def postgres_runner_image(images_lock: dict[str, Any]) -> str:
    """The postgres-runner image reference (``tinyrun/postgres-runner:<version>``)."""
    entry = images_lock.get("images", {}).get("postgres-runner")
    if not entry or not entry.get("image"):
        pytest.fail(
            "build/images.lock.json has no images.postgres-runner.image", pytrace=False
        )
    if not hdocker.docker_available():
        pytest.fail(
            "the docker engine does not answer (`docker info` fails)", pytrace=False
        )
    if not hdocker.image_exists(entry["image"]):
        pytest.fail(
            f"image {entry['image']} is not in the docker engine: run `make images`",
            pytrace=False,
        )
    return entry["image"]


@pytest.fixture(scope="session")
def sqlserver_runner(run_runner: Callable[..., RunResult]) -> Callable[..., RunResult]:
    """``sqlserver_runner(args, env=None, stdin=None, timeout=60, stdout_path=None)``."""

    def run(args: list[str], **kwargs: Any) -> RunResult:
        return run_runner("sqlserver-runner", args, **kwargs)

    return run


@pytest.fixture(scope="session")
def sqlserver_runner_image(images_lock: dict[str, Any]) -> str:
    """The sqlserver-runner image reference (``tinyrun/sqlserver-runner:<version>``)."""
    entry = images_lock.get("images", {}).get("sqlserver-runner")
    if not entry or not entry.get("image"):
        pytest.fail(
            "build/images.lock.json has no images.sqlserver-runner.image", pytrace=False
        )
    if not hdocker.image_exists(entry["image"]):
        pytest.fail(
            f"image {entry['image']} is not in the docker engine: run `make images`",
            pytrace=False,
        )
    return entry["image"]
