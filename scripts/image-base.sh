#!/usr/bin/env bash
# Prints ONE line on stdout: the name of a local build base for the Containerfile where no image registry is
# reachable: Debian bookworm minbase (scripts/debian-rootfs.sh) plus the official Node 20 binary and its
# headers (scripts/node-binary.sh) and npm (the npm package `npm`), laid out like the public
# node:20-bookworm-slim image (/usr/local/bin/node, /usr/local/bin/npm, /usr/local/include/node).
# Users with a registry never need it: the Containerfile's default BASE is node:20-bookworm-slim.
#
# The image lives in the engine's own storage (buildah, or docker with --engine docker), named
#   localhost/berth-build-base:bookworm-node<node version>-npm<npm version>
# and is built only when missing. Progress on stderr. Needs root (buildah's storage, debootstrap).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
ENGINE="${1:-buildah}"
NODE_VERSION="${BERTH_NODE_VERSION:-20.20.2}"
NPM_VERSION="${BERTH_NPM_VERSION:-10.8.2}"
CACHE="${BERTH_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/berth/images}"
NAME="localhost/berth-build-base:bookworm-node${NODE_VERSION}-npm${NPM_VERSION}"
log() { printf '[image-base %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

case "$ENGINE" in
  buildah) exists() { buildah inspect --type image "$NAME" >/dev/null 2>&1; } ;;
  docker) exists() { docker image inspect "$NAME" >/dev/null 2>&1; } ;;
  *) die "engine must be buildah or docker, not $ENGINE" ;;
esac
command -v "$ENGINE" >/dev/null || die "$ENGINE is not installed (Debian: apt-get install $ENGINE; scripts/install-deps.sh)"
if exists; then log "present: $NAME"; printf '%s\n' "$NAME"; exit 0; fi

rootfs="$("$here/debian-rootfs.sh")"
node="$("$here/node-binary.sh")"
work="$(mktemp -d "${TMPDIR:-/tmp}/berth-image-base.XXXXXX")"
ctr=""
cleanup() { [[ -n "$ctr" ]] && buildah rm "$ctr" >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT

npm_tgz="$CACHE/npm-$NPM_VERSION.tgz"
if [[ ! -s "$npm_tgz" ]]; then
  log "npm pack npm@$NPM_VERSION"
  (cd "$work" && npm pack --silent "npm@$NPM_VERSION" >/dev/null) || die "npm pack npm@$NPM_VERSION failed"
  mv "$work/npm-$NPM_VERSION.tgz" "$npm_tgz"
fi
# The layer added on top of Debian: /usr/local as the node images have it.
s="$work/stage"
mkdir -p "$s/usr/local/bin" "$s/usr/local/include" "$s/usr/local/lib/node_modules/npm"
cp "$node" "$s/usr/local/bin/node"
cp -r "$(dirname "$node")/include/node" "$s/usr/local/include/node"
tar -C "$s/usr/local/lib/node_modules/npm" --strip-components=1 -xzf "$npm_tgz"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$s/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$s/usr/local/bin/npx"
tar -C "$s" --numeric-owner --owner=0 --group=0 -cf "$work/usr-local.tar" .

log "creating $NAME ($ENGINE)"
if [[ "$ENGINE" == buildah ]]; then
  ctr="$(buildah from scratch)"
  buildah add "$ctr" "$rootfs" / >/dev/null
  buildah add "$ctr" "$work/usr-local.tar" / >/dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd '["/bin/bash"]' "$ctr"
  buildah commit --quiet "$ctr" "$NAME" >/dev/null
else
  # docker import takes one archive: Debian's, then a two-line build adds /usr/local.
  docker import "$rootfs" "$NAME-debian" >/dev/null
  printf 'FROM %s\nADD usr-local.tar /\nENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nCMD ["/bin/bash"]\n' \
    "$NAME-debian" >"$work/Containerfile"
  docker build -q -t "$NAME" -f "$work/Containerfile" "$work" >/dev/null
fi
exists || die "could not create $NAME"
log "created $NAME"
printf '%s\n' "$NAME"
