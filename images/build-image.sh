#!/usr/bin/env bash
# Build tinyrun/<runner>:<version> FROM scratch from a binary that make produced.
# usage: build-image.sh RUNNER BINARY VERSION REVISION CONTEXT-DIR LIBS...
# LIBS are the runner's static link flags (-lpq ...): they decide the SBOM's components.
set -euo pipefail
runner=$1 binary=$2 version=$3 revision=$4 ctx=$5
shift 5
here=$(cd "$(dirname "$0")" && pwd)

rm -rf "$ctx" && mkdir -p "$ctx/krb5/cache"
# The ticket volume: setgid 65532 so a sharer running as the host uid (TINYRUN_HOST_UID) can
# publish there and every consumer in group 65532 can read.
chmod 2770 "$ctx/krb5/cache"
cp -a "$here/rootfs" "$ctx/rootfs"
mkdir -p "$ctx/rootfs/tmp" "$ctx/rootfs/etc/ssl/certs"
chmod 1777 "$ctx/rootfs/tmp"
cp /etc/ssl/certs/ca-certificates.crt "$ctx/rootfs/etc/ssl/certs/ca-certificates.crt"
cp "$binary" "$ctx/$runner"
python3 "$here/sbom.py" "$runner" "$version" "$here/../deps/pins" "$@" > "$ctx/sbom.spdx.json"
licenses=$(python3 "$here/sbom.py" --licenses "$runner" "$version" "$here/../deps/pins" "$@")
sed "s/@RUNNER@/$runner/g" "$here/Dockerfile.in" > "$ctx/Dockerfile"

docker build -q -t "tinyrun/$runner:$version" \
  --build-arg VERSION="$version" --build-arg REVISION="$revision" \
  --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" --build-arg LICENSES="$licenses" \
  "$ctx" >/dev/null
docker image inspect -f '{{.Id}}' "tinyrun/$runner:$version"
