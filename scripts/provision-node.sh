#!/usr/bin/env bash
# Provides the binaries a real Kubernetes node needs beyond scripts/provision-k8s.sh (etcd, kube-apiserver,
# kubectl): kubelet, kube-proxy, kube-scheduler, kube-controller-manager, and helm (v4).
#
# Prints ONE line on stdout: the folder holding them. Progress goes to stderr.
#
#  1. If BERTH_NODE_ASSETS names a folder with all five executables, that folder is used as is.
#  2. Otherwise they are built from source with the Go toolchain, fetching modules from the Go module proxy
#     (never a prebuilt binary), into a cache OUTSIDE the repository, keyed by version:
#       ${BERTH_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/berth/k8s}/node-k8s-<version>_helm-<version>/
#     A later run finds them there and returns at once.
#
# Knobs: BERTH_K8S_VERSION (default below, the same as provision-k8s.sh), BERTH_HELM_VERSION, BERTH_K8S_CACHE.
# Cold build on a 2-core machine with a warm Go build cache: about 2 minutes for the four Kubernetes commands
# (kubelet 48 s, kube-proxy 6 s, kube-scheduler 4 s, kube-controller-manager 45 s) plus helm.
set -euo pipefail

K8S_VERSION="${BERTH_K8S_VERSION:-v1.36.3}"
HELM_VERSION="${BERTH_HELM_VERSION:-v4.3.2}"
CACHE_ROOT="${BERTH_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/berth/k8s}"
DEST="$CACHE_ROOT/node-k8s-${K8S_VERSION}_helm-${HELM_VERSION}"
K8S_CMDS=(kubelet kube-proxy kube-scheduler kube-controller-manager)

log() { printf '[provision-node %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

have_all() {
  local d="$1" c
  for c in "${K8S_CMDS[@]}" helm; do [[ -x "$d/$c" ]] || return 1; done
}

if [[ -n "${BERTH_NODE_ASSETS:-}" ]]; then
  have_all "$BERTH_NODE_ASSETS" ||
    die "BERTH_NODE_ASSETS=$BERTH_NODE_ASSETS does not hold executable ${K8S_CMDS[*]} helm"
  log "using BERTH_NODE_ASSETS=$BERTH_NODE_ASSETS"
  printf '%s\n' "$BERTH_NODE_ASSETS"
  exit 0
fi

complete() { have_all "$DEST" && [[ -f "$DEST/.complete" ]]; }
if complete; then
  log "cached: $DEST"
  printf '%s\n' "$DEST"
  exit 0
fi

# Same toolchain rule as provision-k8s.sh: Go >= 1.26 (PATH first, then /usr/local/go).
[[ -x /usr/local/go/bin/go ]] && ! command -v go >/dev/null && export PATH="/usr/local/go/bin:$PATH"
GO_MIN_MINOR=26
command -v go >/dev/null ||
  die "the Go toolchain (go >= 1.$GO_MIN_MINOR) is needed to build kubelet, kube-proxy, ... and helm; or set BERTH_NODE_ASSETS"
go_version="$(go env GOVERSION)"
go_minor="${go_version#go1.}"; go_minor="${go_minor%%.*}"; go_minor="${go_minor%%[!0-9]*}"
if [[ -z "${GOTOOLCHAIN:-}" || "${GOTOOLCHAIN}" == local ]] && (( ${go_minor:-0} < GO_MIN_MINOR )); then
  die "$go_version is too old: go >= 1.$GO_MIN_MINOR is needed (or set BERTH_NODE_ASSETS)"
fi
mkdir -p "$DEST"

exec 9>"$CACHE_ROOT/.lock-node"
log "waiting for the build lock $CACHE_ROOT/.lock-node"
flock 9
if complete; then
  log "built by another run meanwhile: $DEST"
  printf '%s\n' "$DEST"
  exit 0
fi

export GOTOOLCHAIN="${GOTOOLCHAIN:-local}" GOFLAGS=-mod=mod CGO_ENABLED=0
WORK="$(mktemp -d "${TMPDIR:-/tmp}/berth-node-build.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
BUILD_LOG="$DEST/build.log"
: >"$BUILD_LOG"

run_go() {
  log "go $*"
  if ! nice -n 10 go "$@" 2>&1 | tee -a "$BUILD_LOG" >&2; then
    die "go $* failed (full log: $BUILD_LOG)"
  fi
}

start_all=$(date +%s)

# ---- the four node/control-plane commands from k8s.io/kubernetes, through the same wrapper module as
# provision-k8s.sh (every staging module replaced by its published tag v0.<minor>.<patch>).
missing=()
for c in "${K8S_CMDS[@]}"; do [[ -x "$DEST/$c" ]] || missing+=("$c"); done
if (( ${#missing[@]} )); then
  STAGING_VERSION="v0.${K8S_VERSION#v1.}"
  log "building ${missing[*]} $K8S_VERSION (staging modules at $STAGING_VERSION)"
  mkdir -p "$WORK/k8s"
  cd "$WORK/k8s"
  printf 'module berth.local/k8s-node-build\n\ngo 1.26\n' >go.mod
  run_go mod download -json "k8s.io/kubernetes@$K8S_VERSION" >/dev/null
  K8S_GOMOD="$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$K8S_VERSION.mod"
  [[ -f "$K8S_GOMOD" ]] || die "k8s.io/kubernetes $K8S_VERSION go.mod not found at $K8S_GOMOD"
  mapfile -t STAGING < <(grep -E '^[[:space:]]*k8s\.io/[a-z0-9-]+ v0\.0\.0([[:space:]]|$)' "$K8S_GOMOD" | awk '{print $1}' | sort -u)
  [[ ${#STAGING[@]} -gt 10 ]] || die "found only ${#STAGING[@]} staging modules in $K8S_GOMOD"
  {
    printf '\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$K8S_VERSION"
    for m in "${STAGING[@]}"; do printf '\t%s => %s %s\n' "$m" "$m" "$STAGING_VERSION"; done
    printf ')\n'
  } >>go.mod
  pkgs=()
  for c in "${missing[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c@$K8S_VERSION"); done
  run_go get "${pkgs[@]}"
  minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
  ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  mkdir -p "$WORK/out"
  for c in "${missing[@]}"; do
    t0=$(date +%s)
    run_go build -trimpath -ldflags="$ldflags" -o "$WORK/out/$c" "k8s.io/kubernetes/cmd/$c"
    mv "$WORK/out/$c" "$DEST/$c"
    log "$c built in $(( $(date +%s) - t0 ))s"
  done
  cd /
fi

# ---- helm v4 from its Go module.
if [[ ! -x "$DEST/helm" ]]; then
  t0=$(date +%s)
  log "building helm $HELM_VERSION"
  mkdir -p "$WORK/helm"
  cd "$WORK/helm"
  printf 'module berth.local/helm-build\n\ngo 1.26\n' >go.mod
  run_go get "helm.sh/helm/v4/cmd/helm@$HELM_VERSION"
  run_go build -trimpath \
    -ldflags="-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION" \
    -o "$WORK/helm-bin" helm.sh/helm/v4/cmd/helm
  mv "$WORK/helm-bin" "$DEST/helm"
  cd /
  log "helm built in $(( $(date +%s) - t0 ))s"
fi

for c in "${K8S_CMDS[@]}"; do "$DEST/$c" --version >&2 || die "the built $c does not run"; done
"$DEST/helm" version >&2 || die "the built helm does not run"
printf 'k8s=%s helm=%s built=%s seconds=%s\n' "$K8S_VERSION" "$HELM_VERSION" "$(date -u +%FT%TZ)" \
  "$(( $(date +%s) - start_all ))" >"$DEST/.complete"
log "done in $(( $(date +%s) - start_all ))s: $DEST"
printf '%s\n' "$DEST"
