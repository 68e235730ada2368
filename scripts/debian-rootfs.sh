#!/usr/bin/env bash
# Prints ONE line on stdout: the path of a tar archive of a minimal Debian bookworm root file system
# (debootstrap --variant=minbase, from the machine's configured Debian mirror), built once and cached
# outside the repository. It is the base of every image the tests build here, where no image registry is
# reachable: `docker import ARCHIVE local/debian:bookworm-slim`, or for buildah
# `buildah from scratch` + `buildah add CONTAINER ARCHIVE /`. Users with a registry build FROM
# debian:bookworm-slim instead (each Containerfile takes the base as a build argument).
#
# Cache: ${BERTH_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/berth/images}/debian-bookworm-minbase.tar
# Needs root and debootstrap (installed with apt when missing). Progress goes to stderr.
set -euo pipefail
CACHE="${BERTH_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/berth/images}"
OUT="$CACHE/debian-bookworm-minbase.tar"
log() { printf '[debian-rootfs %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [[ -s "$OUT" ]]; then log "cached: $OUT"; printf '%s\n' "$OUT"; exit 0; fi
[[ $(id -u) -eq 0 ]] || die "debootstrap needs root"
if ! command -v debootstrap >/dev/null; then
  log "installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; } ||
    die "cannot install debootstrap"
fi
# The mirror this machine's apt uses (deb822 or one-line sources), else Debian's CDN.
# Only active entries: "URIs: ..." in *.sources, "deb URL ..." in *.list (comments and disabled files skipped).
mirror="$( { grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}'
  grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}'; } |
  grep -E '/debian/?$' | head -n1 || true)"
mirror="${mirror:-http://deb.debian.org/debian}"
mkdir -p "$CACHE"
work="$(mktemp -d "$CACHE/rootfs.XXXXXX")"
trap 'rm -rf "$work"' EXIT
log "debootstrap --variant=minbase bookworm from $mirror (about 20 s)"
debootstrap --variant=minbase bookworm "$work/root" "$mirror" >"$work/log" 2>&1 ||
  { tail -n 20 "$work/log" >&2; die "debootstrap failed (log above)"; }
tar -C "$work/root" --exclude='./var/cache/apt/archives/*.deb' --exclude='./var/lib/apt/lists/*' \
  --numeric-owner -cf "$work/rootfs.tar" .
mv "$work/rootfs.tar" "$OUT"
log "built: $OUT ($(du -h "$OUT" | cut -f1))"
printf '%s\n' "$OUT"
