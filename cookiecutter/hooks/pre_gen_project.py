"""Check the answers before anything is written."""

import json
import re
import sys

slug = json.loads(r'''{{ cookiecutter.datakit_slug | tojson }}''')
owner = json.loads(r'''{{ cookiecutter.owner | tojson }}''')
conn_id = json.loads(r'''{{ cookiecutter.conn_id | tojson }}''')
wanted = json.loads(r'''{{ cookiecutter.runner_version | tojson }}''')
built = json.loads(r'''{{ cookiecutter._tinyrun_images.version | tojson }}''')

problems = []
if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", slug):
    problems.append(f"datakit_slug {slug!r}: use lower-case letters, digits and _ (start with a letter)")
if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_. -]{0,99}", owner):
    problems.append(f"owner {owner!r}: the owning team (letters, digits, space, - _ .)")
if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,99}", conn_id):
    problems.append(f"conn_id {conn_id!r}: an Airflow connection id (letters, digits, _)")
if not re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?", wanted):
    problems.append(f"runner_version {wanted!r}: an exact semver tag (never 'latest')")
elif wanted != built:
    problems.append(
        f"runner_version {wanted}: this build has runner images {built}; exact image IDs are only known "
        f"for a build, so set TINYRUN_IMAGES_LOCK to the images.lock.json of the {wanted} build"
    )
if problems:
    sys.exit("cannot create the datakit:\n  " + "\n  ".join(problems))
