#!/bin/sh
# Stage what the HTML report embeds for its map (the versions pinned in
# web/package-lock.json: d3-array, d3-geo, topojson-client, us-atlas) in DIR,
# with their licences, and write DIR/web_assets.h for src/app/assets.c.
# Usage: web.sh DIR [none]. Uses web/node_modules when it is there, else runs
# `npm ci` in web/ (the npm registry, once). Without npm, or with `none`, the
# build goes on without a map: the report says what is missing where the map
# would be, and every chart still works. Never fails the build.
set -u
dir=${1:-build/web}
mode=${2:-auto}
mkdir -p "$dir"
nm=web/node_modules
pkgs="d3-array d3-geo topojson-client us-atlas"
files="d3-array/dist/d3-array.min.js d3-geo/dist/d3-geo.min.js topojson-client/dist/topojson-client.min.js us-atlas/counties-10m.json"
have() {
  for f in $files; do [ -s "$nm/$f" ] || return 1; done
  return 0
}
version() { sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$nm/$1/package.json" | head -n 1; }
missing=""
if [ "$mode" = none ]; then
  missing="this popseg was built without the map's libraries (scripts/web.sh none)"
elif ! have; then
  if command -v npm >/dev/null 2>&1; then
    echo "popseg: npm ci in web/ (the HTML report's map: d3-geo, topojson-client, us-atlas)"
    (cd web && timeout 300 npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) \
      >"$dir/npm.log" 2>&1 || true
    have || missing="npm could not install the map's libraries when popseg was built (see $dir/npm.log)"
  else
    missing="npm was not found when popseg was built (install Node.js and npm, then make clean all)"
  fi
fi
versions=""
if [ -z "$missing" ]; then
  for f in $files; do cp "$nm/$f" "$dir/$(basename "$f")"; done
  # Each file is inlined in a <script> element: it must not be able to close it.
  if grep -qi '</script' "$dir"/*.min.js "$dir/counties-10m.json"; then
    missing="an npm file holds '</script' and cannot be inlined"
  fi
  : >"$dir/LICENSES.txt"
  for p in $pkgs; do
    v=$(version "$p")
    versions="$versions${versions:+, }$p $v"
    { echo "== $p $v (npm)"; cat "$nm/$p/LICENSE"; echo; } >>"$dir/LICENSES.txt"
  done
fi
tmp="$dir/web_assets.h.tmp"
{
  echo "/* written by scripts/web.sh: what src/app/assets.c embeds */"
  echo "#define PS_WEB_DIR \"$dir\""
  if [ -z "$missing" ]; then
    echo "#define PS_WEB_HAVE_MAP 1"
    echo "#define PS_WEB_VERSIONS \"$versions\""
    echo "#define PS_WEB_MISSING NULL"
  else
    echo "#define PS_WEB_HAVE_MAP 0"
    echo "#define PS_WEB_VERSIONS \"\""
    echo "#define PS_WEB_MISSING \"$missing\""
    echo "popseg: the HTML report will have no map: $missing" >&2
  fi
} >"$tmp"
mv "$tmp" "$dir/web_assets.h"
