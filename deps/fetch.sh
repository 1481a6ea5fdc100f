#!/usr/bin/env bash
# deps/fetch.sh PINS NAME APT_DIR DL_DIR DEST [PATCH...]: fetch NAME's source from Debian's archive, the
# first record of PINS the archive serves (pin, then fallbacks), verify every file against its pinned
# SHA-256, unpack it into DEST (dpkg-source -x when a .dsc is pinned, so Debian's patches apply;
# dpkg-deb -x for a pinned binary .deb) and apply the given patches. APT_DIR is the private apt configuration made by deps/apt-setup.sh.
set -euo pipefail
pins=$1 name=$2 aptdir=$3 dl=$4 dest=$5
shift 5
export APT_CONFIG=$aptdir/apt.conf

# URIs apt knows for SRC=VERSION (from the signed Sources index): lines "URI FILE SHA256".
index_uris() {
  apt-get source --only-source --print-uris -qq "$1" 2>/dev/null |
    sed -n "s/^'\([^']*\)' \([^ ]*\) [0-9]* SHA256:\([0-9a-f]*\)\$/\1 \2 \3/p"
}

# fetch_record SRC VERSION FILES: download the pinned files into $dl/SRC; non-zero if any is missing.
fetch_record() {
  local src=$1 ver=$2 files=$3 listed= pool f sha uri idx_sha entry
  # A binary .deb is not in the Sources index: it lies in the source package's pool folder.
  [[ $files == *.deb=* ]] || listed=$(index_uris "$src=$ver")
  if [ -z "$listed" ]; then
    # Gone from the index: the pool folder of the package (same for all its versions), pin-verified only.
    pool=$(index_uris "$src" | awk '{ sub(/\/[^\/]*$/, "", $1); print $1; exit }')
    [ -n "$pool" ] || { echo "fetch: $src is not in the Sources index" >&2; return 1; }
    [[ $files == *.deb=* ]] ||
      echo "fetch: $src $ver is not in the signed Sources index; verifying against the pinned SHA-256 only" >&2
  fi
  mkdir -p "$dl/$src"
  for entry in ${files//,/ }; do
    f=${entry%%=*} sha=${entry#*=} uri=
    if [ -f "$dl/$src/$f" ] && sha256sum --quiet -c <<<"$sha  $dl/$src/$f" 2>/dev/null; then continue; fi
    if [ -n "$listed" ]; then
      read -r uri idx_sha < <(awk -v f="$f" '$2 == f { print $1, $3 }' <<<"$listed") || true
      [ -n "${uri:-}" ] || { echo "fetch: $f is not listed for $src $ver" >&2; return 1; }
      [ "$idx_sha" = "$sha" ] || { echo "fetch: $f: Sources index SHA-256 $idx_sha differs from the pin $sha" >&2; return 1; }
    else
      uri=$pool/$(sed 's/+/%2b/g; s/~/%7e/g' <<<"$f")
    fi
    rm -f "$dl/$src/$f"
    /usr/lib/apt/apt-helper download-file "$uri" "$dl/$src/$f" "SHA256:$sha" >/dev/null 2>&1 ||
      { echo "fetch: cannot download $f for $src $ver" >&2; rm -f "$dl/$src/$f"; return 1; }
    sha256sum --quiet -c <<<"$sha  $dl/$src/$f"
  done
}

found=
while read -r n rank src ver _upstream files _license; do
  [ "$n" = "$name" ] || continue
  if fetch_record "$src" "$ver" "$files"; then found=$rank; break; fi
  echo "fetch: $name: $src $ver ($rank) could not be fetched" >&2
done < <(sed '/^#/d; /^[[:space:]]*$/d' "$pins")
[ -n "$found" ] || { echo "fetch: $name: no pinned version of it could be fetched (see deps/pins)" >&2; exit 1; }
[ "$found" = pin ] ||
  echo "fetch: WARNING: $name built from fallback $src $ver, not its pin: make it the pin in deps/pins" >&2

rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
dsc=$(tr , '\n' <<<"$files" | sed -n 's/=.*//; /\.dsc$/p')
if [ -n "$dsc" ]; then
  # dpkg-source checks the files against the .dsc; its "no public key" note about the uploader's
  # signature is expected (the .dsc itself is pinned) and only shown if unpacking fails.
  log=$(mktemp)
  dpkg-source --no-copy -x "$dl/$src/$dsc" "$dest" >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; exit 1; }
  rm -f "$log"
elif [[ $files == *.deb=* ]]; then
  dpkg-deb -x "$dl/$src/${files%%=*}" "$dest"
else
  mkdir "$dest"
  tar -xf "$dl/$src/${files%%=*}" -C "$dest" --strip-components=1
fi
for p in "$@"; do
  patch -d "$dest" -p1 --forward --quiet < "$p"
done
