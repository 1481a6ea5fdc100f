#!/usr/bin/env python3
"""SPDX 2.3 SBOM of one runner image: the runner itself and the pinned static libraries it links.

usage: sbom.py [--licenses] RUNNER VERSION PINS -lLIB...
The -l flags are the runner's link line; each maps to the pinned Debian source it was built from.
With --licenses, print the image's licence expression (for the OCI label) instead.
"""

import json
import sys
import uuid
from datetime import datetime, timezone

TINYRUN_LICENSE = "MIT"

# Static library (-l flag) -> tinyrun's name for the pinned source that builds it (deps/pins).
LIB_TO_PIN = {
    "pq": "libpq", "pgcommon_shlib": "libpq", "pgport_shlib": "libpq",
    "ssl": "openssl", "crypto": "openssl",
    "gssapi_krb5": "krb5", "krb5": "krb5", "k5crypto": "krb5", "com_err": "krb5", "krb5support": "krb5",
    "cjson": "cjson", "curl": "curl", "z": "zlib",
    "mbedtls": "mbedtls", "mbedx509": "mbedtls", "mbedcrypto": "mbedtls",
    "sybdb": "freetds",
}


def read_pins(path: str) -> dict[str, dict[str, str]]:
    """The `pin` record of each library in deps/pins."""
    pins = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            name, rank, source, debver, upstream, _files, *lic = line.split()
            if rank == "pin":
                pins[name] = {"source": source, "debian": debver, "upstream": upstream, "license": " ".join(lic)}
    return pins


def used_pins(flags: list[str], pins: dict[str, dict[str, str]]) -> list[str]:
    names = {LIB_TO_PIN[f[2:]] for f in flags if f.startswith("-l") and f[2:] in LIB_TO_PIN}
    return sorted(n for n in names if n in pins)


def package(spdx_id: str, name: str, version: str, lic: str, comment: str) -> dict:
    return {
        "SPDXID": spdx_id, "name": name, "versionInfo": version, "downloadLocation": "NOASSERTION",
        "licenseConcluded": lic, "licenseDeclared": lic, "copyrightText": "NOASSERTION", "comment": comment,
    }


def sbom(runner: str, version: str, pins: dict[str, dict[str, str]], libs: list[str]) -> dict:
    packages = [package("SPDXRef-runner", runner, version, TINYRUN_LICENSE, "the static tinyrun executable")]
    relationships = [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES",
                      "relatedSpdxElement": "SPDXRef-runner"}]
    for name in libs:
        p = pins[name]
        ref = f"SPDXRef-{name}"
        packages.append(package(ref, name, p["upstream"], p["license"],
                                f"statically linked; built from Debian source {p['source']} {p['debian']}"))
        relationships.append({"spdxElementId": "SPDXRef-runner", "relationshipType": "STATIC_LINK",
                              "relatedSpdxElement": ref})
    return {
        "spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT",
        "name": f"tinyrun-{runner}-{version}", "documentNamespace": f"urn:uuid:{uuid.uuid4()}",
        "creationInfo": {"created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                         "creators": ["Tool: tinyrun images/sbom.py"]},
        "packages": packages, "relationships": relationships,
    }


def main(argv: list[str]) -> int:
    licenses_only = argv[:1] == ["--licenses"]
    runner, version, pins_path, *flags = argv[1:] if licenses_only else argv
    pins = read_pins(pins_path)
    libs = used_pins(flags, pins)
    if licenses_only:
        parts = [TINYRUN_LICENSE] + [f"({pins[n]['license']})" if " " in pins[n]["license"] else pins[n]["license"]
                                     for n in libs]
        print(" AND ".join(dict.fromkeys(parts)))
    else:
        json.dump(sbom(runner, version, pins, libs), sys.stdout, indent=1)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
