"""After generation: write runners.lock (the exact runner images, tag, image ID and registry digest if pushed, this datakit
pins), .tinyrun/pipeline.schema.json (the JSON Schema of pipeline files, for editors), and what the local
Airflow installs: the DAG factory wheel in .tinyrun/dist/ pinned by sha256 in requirements-tinyrun.txt, and
the Airflow pins of the same build in requirements-airflow.txt."""

import hashlib
import json
import shutil
import sys
from pathlib import Path

from tinyrun_dagfactory.schema import schema_text

images = json.loads(r'''{{ cookiecutter._tinyrun_images | tojson }}''')
lock = {
    "version": images["version"],
    "comment": "Exact tinyrun runner images this datakit uses (from the build's images.lock.json). "
    "Change it only by regenerating from a tinyrun build; never use 'latest'.",
    "images": images["images"],
}
Path("runners.lock").write_text(json.dumps(lock, indent=2, sort_keys=True) + "\n")

Path(".tinyrun").mkdir(exist_ok=True)
Path(".tinyrun/pipeline.schema.json").write_text(schema_text())

dist = json.loads(r'''{{ cookiecutter._tinyrun_dist | tojson }}''')
wheel = Path(".tinyrun/dist") / Path(dist["wheel"]).name
wheel.parent.mkdir(parents=True, exist_ok=True)
shutil.copyfile(dist["wheel"], wheel)
if hashlib.sha256(wheel.read_bytes()).hexdigest() != dist["sha256"]:
    sys.exit(f"{dist['wheel']} changed while the datakit was generated: run cookiecutter again")
Path("requirements-tinyrun.txt").write_text(
    "# The tinyrun DAG factory this datakit was generated with, pinned by hash (pip --require-hashes).\n"
    f"./{wheel.as_posix()} --hash=sha256:{dist['sha256']}\n"
)
Path("requirements-airflow.txt").write_text(
    "# Airflow and its providers, exact pins of the tinyrun build this datakit was generated with.\n"
    + Path(dist["pins"]).read_text()
)
