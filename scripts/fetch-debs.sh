#!/usr/bin/env bash
# Fetch the Debian packages that the bundled sample data is derived from and
# unpack them (without installing anything) into a cache folder.
#
#   bash scripts/fetch-debs.sh [CACHE_DIR]
#
# CACHE_DIR defaults to $DEBS_CACHE, else .cache/debs (relative to the repo root).
# Layout afterwards:
#   CACHE_DIR/<package>_<version>_<arch>.deb   the downloaded packages
#   CACHE_DIR/x/                               all of them unpacked with dpkg-deb -x
#
# Idempotent: a package whose .deb is already in CACHE_DIR is not downloaded
# again, and a .deb is unpacked again only when it is newer than its stamp.
# Next step:  /usr/bin/python3 scripts/derive-samples.py CACHE_DIR/x
set -euo pipefail

PACKAGES=(mricron-data insighttoolkit5-examples)

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${1:-${DEBS_CACHE:-$repo_root/.cache/debs}}"
mkdir -p "$cache"
cache="$(cd "$cache" && pwd)"
extract="$cache/x"
mkdir -p "$extract"

for cmd in apt-get dpkg-deb; do
  command -v "$cmd" >/dev/null 2>&1 || { echo "error: $cmd not found (needs a Debian/Ubuntu system)" >&2; exit 1; }
done

for pkg in "${PACKAGES[@]}"; do
  shopt -s nullglob
  debs=("$cache/${pkg}"_*.deb)
  shopt -u nullglob
  if [ "${#debs[@]}" -eq 0 ]; then
    echo "downloading $pkg ..."
    # apt-get download writes into the current directory; no root needed.
    (cd "$cache" && apt-get download "$pkg")
    shopt -s nullglob
    debs=("$cache/${pkg}"_*.deb)
    shopt -u nullglob
    [ "${#debs[@]}" -gt 0 ] || { echo "error: apt-get download $pkg produced no .deb" >&2; exit 1; }
  else
    echo "cached:   ${debs[*]##*/}"
  fi
  if [ "${#debs[@]}" -gt 1 ]; then
    echo "warning: several versions of $pkg in $cache; using all of them in name order:" >&2
    printf '  %s\n' "${debs[@]##*/}" >&2
  fi
  for deb in "${debs[@]}"; do
    stamp="$extract/.${deb##*/}.extracted"
    if [ ! -e "$stamp" ] || [ "$deb" -nt "$stamp" ]; then
      echo "unpacking ${deb##*/}"
      dpkg-deb -x "$deb" "$extract"
      touch "$stamp"
    fi
  done
done

echo
echo "packages:  $cache"
ls -1 "$cache"/*.deb | sed 's|^|  |'
echo "unpacked:  $extract"
echo "  MRIcron templates: $extract/usr/share/mricron/templates/"
echo "  ITK example data:  $extract/usr/share/doc/insighttoolkit5-examples/examples/Data/"
echo "  copyright files:   $extract/usr/share/doc/{mricron-data,insighttoolkit5-examples}/copyright"
echo
echo "next: /usr/bin/python3 scripts/derive-samples.py $extract"
