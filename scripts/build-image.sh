#!/usr/bin/env bash
# `npm run image`: builds berth's container image from the Containerfile, with Docker or daemonless with buildah.
#
#   npm run image                                  # engine: buildah if installed, else docker
#   npm run image -- --engine docker --tag registry.example/berth:0.1.0
#   npm run image -- --local-base                  # no registry: base from scripts/image-base.sh
#   npm run image -- --local-base --oci-archive /tmp/berth.tar   # also write an OCI archive (ctr images import)
#
# Env: BERTH_BUILD_CA (else NODE_EXTRA_CA_CERTS): a CA bundle npm needs inside the build (a proxy's).
# Options: --engine docker|buildah, --tag NAME (default berth:<package.json version>), --base IMAGE (the
# Containerfile's BASE), --local-base, --oci-archive PATH, --docker-archive PATH, --no-cache.
# Prints ONE line on stdout: the image name. Build output goes to stderr.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
log() { printf '[build-image %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

version="$(node -p 'require(process.argv[1]).version' "$root/package.json")"
engine="${BERTH_IMAGE_ENGINE:-}"
tag="" base="" local_base=0 oci_archive="" docker_archive="" no_cache=()
while (( $# )); do
  case "$1" in
    --engine) engine="$2"; shift 2 ;;
    --tag) tag="$2"; shift 2 ;;
    --base) base="$2"; shift 2 ;;
    --local-base) local_base=1; shift ;;
    --no-cache) no_cache=(--no-cache); shift ;;
    --oci-archive) oci_archive="$2"; shift 2 ;;
    --docker-archive) docker_archive="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
    *) die "unknown option $1 (--help)" ;;
  esac
done
if [[ -z "$engine" ]]; then
  if command -v buildah >/dev/null; then engine=buildah
  elif command -v docker >/dev/null; then engine=docker
  else die "neither buildah nor docker is installed (Debian: apt-get install buildah)"; fi
fi
command -v "$engine" >/dev/null || die "$engine is not installed"
tag="${tag:-berth:$version}"
if (( local_base )); then base="$("$root/scripts/image-base.sh" "$engine")"; fi

revision="$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)"
if [[ "$revision" != unknown ]] && [[ -n "$(git -C "$root" status --porcelain -- src bin scripts package.json package-lock.json binding.gyp Containerfile tsconfig.json tsconfig.dist.json 2>/dev/null)" ]]; then
  revision+="-dirty"
fi
created="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
args=(--build-arg "VERSION=$version" --build-arg "REVISION=$revision" --build-arg "CREATED=$created")
[[ -n "$base" ]] && args+=(--build-arg "BASE=$base")
# Behind a TLS-intercepting proxy npm needs its CA: given to the build as a secret (in no layer).
ca="${BERTH_BUILD_CA:-${NODE_EXTRA_CA_CERTS:-}}"
[[ -n "$ca" && -f "$ca" ]] && args+=(--secret "id=ca,src=$ca")
annotations=(
  "org.opencontainers.image.title=berth"
  "org.opencontainers.image.version=$version"
  "org.opencontainers.image.revision=$revision"
  "org.opencontainers.image.created=$created"
  "org.opencontainers.image.licenses=Apache-2.0"
  "org.opencontainers.image.source=https://github.com/berth-lb/berth"
)

t0=$(date +%s)
log "building $tag with $engine${base:+ from $base}"
if [[ "$engine" == buildah ]]; then
  for a in "${annotations[@]}"; do args+=(--annotation "$a"); done
  # chroot isolation and the host network: what works in unprivileged-ish VMs (../shared/tools/REAL-NODE.md).
  buildah bud --layers --force-rm "${no_cache[@]}" --isolation chroot --network host --format oci -f "$root/Containerfile" \
    "${args[@]}" -t "$tag" "$root" >&2
  # buildah 1.28 reuses a cached final image whole (config, labels, annotations) when its layers did not
  # change, whatever the build arguments: set version, revision and creation time on the result itself.
  meta=()
  for a in "${annotations[@]}"; do meta+=(--label "$a" --annotation "$a"); done
  ctr="$(buildah from "$tag")"
  buildah config --label "io.berth.version=$version" "${meta[@]}" "$ctr"
  buildah commit --quiet --rm --format oci "$ctr" "$tag" >/dev/null
  [[ -n "$oci_archive" ]] && { rm -f "$oci_archive"; buildah push --quiet "$tag" "oci-archive:$oci_archive:$tag" >&2; log "wrote $oci_archive"; }
  [[ -n "$docker_archive" ]] && { rm -f "$docker_archive"; buildah push --quiet "$tag" "docker-archive:$docker_archive:$tag" >&2; log "wrote $docker_archive"; }
  size="$(buildah images --noheading --format '{{.Size}}' "$tag" 2>/dev/null | head -n1 || true)"
else
  # The Containerfile's RUN --mount=type=secret needs BuildKit: Docker's buildx plugin (Docker 23 and later
  # build with the legacy builder without it, which cannot run that line), or DOCKER_BUILDKIT=1 with a
  # Docker client before 23, which has BuildKit built in.
  if [[ "${DOCKER_BUILDKIT:-}" != 1 ]] && ! docker buildx version >/dev/null 2>&1; then
    die "docker has no buildx plugin (BuildKit), which the Containerfile's RUN --mount needs: install Docker's buildx plugin (or build it: go install github.com/docker/buildx/cmd/buildx@v0.38.2 and copy it to ~/.docker/cli-plugins/docker-buildx), set DOCKER_BUILDKIT=1 with a Docker client before 23, or use --engine buildah"
  fi
  # OCI annotations need buildx (docker buildx build --annotation); the same keys are labels either way.
  docker build "${no_cache[@]}" --network host -f "$root/Containerfile" "${args[@]}" -t "$tag" "$root" >&2
  [[ -n "$oci_archive" || -n "$docker_archive" ]] && { docker save "$tag" -o "${docker_archive:-$oci_archive}"; log "wrote ${docker_archive:-$oci_archive}"; }
  size="$(docker image inspect --format '{{.Size}}' "$tag")"
fi
log "built $tag in $(( $(date +%s) - t0 ))s${size:+, $size uncompressed}"
printf '%s\n' "$tag"
