#!/usr/bin/env python3
"""SPDX 2.3 SBOM of one runner image: the runner, the pinned static libraries it links (musl
always) and the pinned CA bundle. Nothing in it comes from the clock or chance: the creation time is
SOURCE_DATE_EPOCH and the namespace is derived from the runner, its version, revision and binary.

usage: sbom.py [--licenses] RUNNER VERSION REVISION PINS BINARY -lLIB...   (SOURCE_DATE_EPOCH set)
The -l flags are the runner's link line; each maps to the pinned Debian source it was built from.
With --licenses, print the image's licence expression (for the OCI label) instead.
images/build-image.py uses sbom() and licenses() directly.
"""

import hashlib
import json
import os
import sys
import uuid
from datetime import UTC, datetime

TINYRUN_LICENSE = "MIT"
LIBC = "musl"  # linked into every runner
CA_BUNDLE = "ca-certificates"  # /etc/ssl/certs/ca-certificates.crt in every image

# Static library (-l flag) -> tinyrun's name for the pinned source that builds it (deps/pins).
LIB_TO_PIN = {
    "pq": "libpq", "pgcommon_shlib": "libpq", "pgport_shlib": "libpq",
    "ssl": "openssl", "crypto": "openssl",
    "gssapi_krb5": "krb5", "krb5": "krb5", "k5crypto": "krb5", "com_err": "krb5", "krb5support": "krb5",
    "cjson": "cjson", "curl": "curl", "z": "zlib",
    "mbedtls": "mbedtls", "mbedx509": "mbedtls", "mbedcrypto": "mbedtls",
    "sybdb": "freetds", "yaml": "libyaml",
}


def rfc3339(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
    """The pinned libraries the link flags name, and musl."""
    names = {LIB_TO_PIN[f[2:]] for f in flags if f.startswith("-l") and f[2:] in LIB_TO_PIN} | {LIBC}
    return sorted(n for n in names if n in pins)


def licenses(pins: dict[str, dict[str, str]], flags: list[str]) -> str:
    """The image's licence expression: tinyrun's, then each component's, once each."""
    names = used_pins(flags, pins) + ([CA_BUNDLE] if CA_BUNDLE in pins else [])
    parts = [TINYRUN_LICENSE] + [f"({pins[n]['license']})" if " " in pins[n]["license"] else pins[n]["license"]
                                 for n in names]
    return " AND ".join(dict.fromkeys(parts))


def package(spdx_id: str, name: str, version: str, lic: str, comment: str) -> dict:
    return {
        "SPDXID": spdx_id, "name": name, "versionInfo": version, "downloadLocation": "NOASSERTION",
        "licenseConcluded": lic, "licenseDeclared": lic, "copyrightText": "NOASSERTION", "comment": comment,
    }


def pinned_package(name: str, pin: dict[str, str], what: str) -> dict:
    return package(f"SPDXRef-{name}", name, pin["upstream"], pin["license"],
                   f"{what}; built from Debian {pin['source']} {pin['debian']}")


def sbom(runner: str, version: str, revision: str, pins: dict[str, dict[str, str]], libs: list[str],
         binary: bytes, epoch: int) -> dict:
    binary_sha = hashlib.sha256(binary).hexdigest()
    runner_pkg = package("SPDXRef-runner", runner, version, TINYRUN_LICENSE,
                         f"the static tinyrun executable, revision {revision}")
    runner_pkg["checksums"] = [{"algorithm": "SHA256", "checksumValue": binary_sha}]
    packages = [runner_pkg]
    relationships = [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES",
                      "relatedSpdxElement": "SPDXRef-runner"}]
    for name in libs:
        packages.append(pinned_package(name, pins[name], "statically linked"))
        relationships.append({"spdxElementId": "SPDXRef-runner", "relationshipType": "STATIC_LINK",
                              "relatedSpdxElement": f"SPDXRef-{name}"})
    if CA_BUNDLE in pins:
        packages.append(pinned_package(CA_BUNDLE, pins[CA_BUNDLE], "/etc/ssl/certs/ca-certificates.crt"))
        relationships.append({"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES",
                              "relatedSpdxElement": f"SPDXRef-{CA_BUNDLE}"})
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"tinyrun:{runner}:{version}:{revision}:{binary_sha}")
    return {
        "spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT",
        "name": f"tinyrun-{runner}-{version}", "documentNamespace": f"urn:uuid:{namespace}",
        "creationInfo": {"created": rfc3339(epoch),
                         "creators": ["Tool: tinyrun images/sbom.py"]},
        "packages": packages, "relationships": relationships,
    }


def main(argv: list[str]) -> int:
    licenses_only = argv[:1] == ["--licenses"]
    runner, version, revision, pins_path, binary, *flags = argv[1:] if licenses_only else argv
    pins = read_pins(pins_path)
    if licenses_only:
        print(licenses(pins, flags))
        return 0
    epoch = int(os.environ["SOURCE_DATE_EPOCH"])
    with open(binary, "rb") as f:
        doc = sbom(runner, version, revision, pins, used_pins(flags, pins), f.read(), epoch)
    json.dump(doc, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
