"""A team's dbt runtime image, the way dbt-runner's README tells teams to build one.

The debootstrap'd bookworm of harness.rootfs with python3 and python3-venv, a venv /opt/dbt with
the pinned dbt (tests/requirements-dbt.txt) installed from the wheels `make venv-dbt` downloaded
into build/dbt-wheels/ (nothing is fetched inside the build), the test project at /project, and
dbt-runner copied from its FROM scratch image as the ENTRYPOINT.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from .rootfs import runtime_image

PACKAGES = ("python3", "python3-venv")
PROJECT_DIR = "/project"


def dbt_runtime_image(repo_root: Path, runner_image: str) -> str:
    """Build the image (Docker's layer cache makes a rebuild quick); return its image ID."""
    wheels = repo_root / "build" / "dbt-wheels"
    if not (wheels / ".stamp").exists():
        raise FileNotFoundError(f"{wheels} is missing: run `make venv-dbt` (make test does)")
    with tempfile.TemporaryDirectory(prefix="dbt-image-") as tmp:
        ctx = Path(tmp)
        shutil.copytree(wheels, ctx / "wheels")
        shutil.copytree(repo_root / "tests" / "dbt" / "project", ctx / "project")
        for p in [ctx, *ctx.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
        (ctx / "Dockerfile").write_text(
            f"FROM {runner_image} AS dbt-runner\n"
            f"FROM {runtime_image(repo_root, PACKAGES)}\n"
            "COPY wheels /wheels\n"
            "RUN python3 -m venv /opt/dbt && /opt/dbt/bin/pip install -q --no-index --find-links /wheels"
            " -r /wheels/requirements.txt && rm -rf /wheels\n"
            "ENV PATH=/opt/dbt/bin:/usr/local/bin:/usr/bin:/bin\n"
            f"COPY project {PROJECT_DIR}\n"
            "COPY --from=dbt-runner /usr/local/bin/dbt-runner /usr/local/bin/dbt-runner\n"
            f"WORKDIR {PROJECT_DIR}\n"
            "USER 65532:65532\n"
            'ENTRYPOINT ["/usr/local/bin/dbt-runner"]\n'
        )
        out = subprocess.run(
            ["docker", "build", "-q", str(ctx)], check=True, capture_output=True, text=True, timeout=900
        )
    return out.stdout.strip()
