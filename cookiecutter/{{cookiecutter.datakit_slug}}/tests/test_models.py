"""The datakit's table models (models/*.yml): each follows the published model schema, names its
mixins, and its foreign keys point to models of the folder. model-deployer checks the same and
more when it runs (`model-deployer render --models models` offline)."""

import json
from importlib import resources
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads(resources.files("tinyrun_dagfactory").joinpath("schema/model.schema.json").read_text())


def models():
    files = sorted((ROOT / "models").glob("*.yml")) + sorted((ROOT / "models").glob("*.yaml"))
    assert files, "no model files under models/"
    for path in files:
        doc = yaml.safe_load(path.read_text())
        yield path, doc


def tables():
    for path, doc in models():
        for table in doc.get("tables", [doc]) if isinstance(doc, dict) else []:
            yield path, table


def test_models_follow_the_schema():
    for path, doc in models():
        errors = sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(doc), key=str)
        assert not errors, f"{path.name}: " + "; ".join(e.message for e in errors)


def test_foreign_keys_point_to_models_and_names_are_unique():
    known = {}
    for path, t in tables():
        key = (t["schema"], t["table"])
        assert key not in known, f"{path.name}: {'.'.join(key)} is also defined in {known[key]}"
        known[key] = path.name
    for path, t in tables():
        for fk in t.get("foreign_keys", []):
            ref = fk["references"]
            target = (ref.get("schema", t["schema"]), ref["table"])
            assert target in known, f"{path.name}: {t['table']}: references {'.'.join(target)}, which no model defines"
