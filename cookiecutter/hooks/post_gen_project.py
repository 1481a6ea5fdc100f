"""After generation: write runners.lock (the exact runner images, tag, image ID and registry digest if pushed, this datakit
pins) and .tinyrun/pipeline.schema.json (the JSON Schema of pipeline files, for editors)."""

import json
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
