#!/usr/bin/env bash
# deps/apt-setup.sh DIR: a private apt configuration in DIR (DIR/apt.conf, for APT_CONFIG) with deb-src
# entries for the suites the pins come from, derived from this machine's own deb entries (their URIs
# and Signed-By), then `apt-get update` on it. The system's apt setup is left untouched.
set -euo pipefail
dir=${1:?usage: apt-setup.sh DIR}
main_suites="trixie sid"
security_suites="trixie-security"

# Print "URI<TAB>SUITE<TAB>SIGNED-BY" for every deb entry of the machine (deb822 and one-line formats).
machine_entries() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -e "$f" ] || continue
    awk 'BEGIN { RS = ""; FS = "\n" }
      {
        types = uris = suites = signed = ""
        for (i = 1; i <= NF; i++) {
          line = $i
          if (line ~ /^#/) continue
          key = tolower(line); sub(/:.*/, "", key)
          val = line; sub(/^[^:]*:[ \t]*/, "", val)
          if (key == "types") types = val
          else if (key == "uris") uris = val
          else if (key == "suites") suites = val
          else if (key == "signed-by") signed = val
        }
        if (types !~ /(^| )deb( |$)/) next
        nu = split(uris, u, /[ \t]+/); ns = split(suites, s, /[ \t]+/)
        for (a = 1; a <= nu; a++) for (b = 1; b <= ns; b++) if (u[a] != "" && s[b] != "")
          printf "%s\t%s\t%s\n", u[a], s[b], signed
      }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -e "$f" ] || continue
    sed -n 's/#.*//; s/^[[:space:]]*deb[[:space:]]\+//p' "$f" | awk '{
        signed = ""
        if ($1 ~ /^\[/) {
          while ($1 !~ /\]$/) { if ($1 ~ /signed-by=/) { signed = $1; sub(/.*signed-by=/, "", signed) } ; $1 = ""; $0 = $0 }
          if ($1 ~ /signed-by=/) { signed = $1; sub(/.*signed-by=/, "", signed); sub(/\]$/, "", signed) }
          $1 = ""; $0 = $0
        }
        printf "%s\t%s\t%s\n", $1, $2, signed
      }'
  done
}

entries=$(machine_entries)
# The archive: an entry for a plain release suite; the security archive: an entry for a *-security suite.
main=$(awk -F'\t' '$2 !~ /-/ { print; exit }' <<<"$entries")
security=$(awk -F'\t' '$2 ~ /-security$/ { print; exit }' <<<"$entries")
[ -n "$main" ] || { echo "apt-setup: no Debian release entry among the machine's apt sources" >&2; exit 1; }
[ -n "$security" ] || { echo "apt-setup: no Debian security entry among the machine's apt sources" >&2; exit 1; }

stanza() { # URI SIGNED-BY SUITES
  printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: main\n' "$1" "$3"
  if [ -n "$2" ]; then printf 'Signed-By: %s\n' "$2"; fi
  printf '\n'
}

mkdir -p "$dir/sources.list.d" "$dir/lists/partial" "$dir/cache/archives/partial"
{
  IFS=$'\t' read -r uri _ signed <<<"$main"; stanza "$uri" "$signed" "$main_suites"
  IFS=$'\t' read -r uri _ signed <<<"$security"; stanza "$uri" "$signed" "$security_suites"
} > "$dir/sources.list.d/deps.sources"
cat > "$dir/apt.conf" <<CONF
Dir::Etc::SourceList "/dev/null";
Dir::Etc::SourceParts "$dir/sources.list.d";
Dir::State::Lists "$dir/lists";
Dir::Cache "$dir/cache";
APT::Sandbox::User "root";
CONF
APT_CONFIG=$dir/apt.conf apt-get update -qq
