#!/usr/bin/env bash
# Provides the binaries the Kubernetes tests (test/k8s) run against: etcd, kube-apiserver and kubectl.
#
# Prints ONE line on stdout: the folder holding them (usable as KUBEBUILDER_ASSETS). Progress goes to stderr.
#
#  1. If KUBEBUILDER_ASSETS names a folder with executable `kube-apiserver` and `etcd`, that folder is used
#     as is (kubectl there is optional; the harness then takes the one on PATH, else the provisioned one).
#  2. Otherwise the binaries are built from source with the Go toolchain, fetching modules from the Go
#     module proxy (never a prebuilt binary), into a cache OUTSIDE the repository, keyed by version:
#       ${BERTH_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/berth/k8s}/k8s-<version>_etcd-<version>/
#     A later run finds them there and returns at once.
#
# Knobs: BERTH_K8S_VERSION (default below), BERTH_ETCD_VERSION, BERTH_K8S_CACHE.
# The first build takes several minutes on a 2-core machine (see docs/testing-k8s.md for measured times).
set -euo pipefail

K8S_VERSION="${BERTH_K8S_VERSION:-v1.36.3}"
ETCD_VERSION="${BERTH_ETCD_VERSION:-v3.6.16}"
CACHE_ROOT="${BERTH_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/berth/k8s}"
DEST="$CACHE_ROOT/k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}"

log() { printf '[provision-k8s %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [[ -n "${KUBEBUILDER_ASSETS:-}" ]]; then
  [[ -x "$KUBEBUILDER_ASSETS/kube-apiserver" && -x "$KUBEBUILDER_ASSETS/etcd" ]] ||
    die "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS does not hold executable kube-apiserver and etcd"
  log "using KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS"
  printf '%s\n' "$KUBEBUILDER_ASSETS"
  exit 0
fi

complete() { [[ -x "$DEST/etcd" && -x "$DEST/kube-apiserver" && -x "$DEST/kubectl" && -f "$DEST/.complete" ]]; }

if complete; then
  log "cached: $DEST"
  printf '%s\n' "$DEST"
  exit 0
fi

# Go >= 1.26 is needed (the go directive of k8s.io/kubernetes v1.36 and etcd v3.6.16). Debian bookworm's
# golang-go (1.19) is too old: install Go from go.dev, or point KUBEBUILDER_ASSETS at your own binaries.
GO_MIN_MINOR=26
command -v go >/dev/null ||
  die "the Go toolchain (go >= 1.$GO_MIN_MINOR) is needed to build etcd and kube-apiserver; or set KUBEBUILDER_ASSETS"
go_version="$(go env GOVERSION)"
go_minor="${go_version#go1.}"; go_minor="${go_minor%%.*}"; go_minor="${go_minor%%[!0-9]*}"
if [[ -z "${GOTOOLCHAIN:-}" || "${GOTOOLCHAIN}" == local ]] && (( ${go_minor:-0} < GO_MIN_MINOR )); then
  die "$go_version is too old: go >= 1.$GO_MIN_MINOR is needed (or set KUBEBUILDER_ASSETS to your own binaries)"
fi
mkdir -p "$DEST"

# One builder at a time (test-all and a test run may both ask); the others wait and reuse the result.
exec 9>"$CACHE_ROOT/.lock"
log "waiting for the build lock $CACHE_ROOT/.lock"
flock 9
if complete; then
  log "built by another run meanwhile: $DEST"
  printf '%s\n' "$DEST"
  exit 0
fi

# GOTOOLCHAIN=local unless the caller chose otherwise: no toolchain is fetched behind the user's back.
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}" GOFLAGS=-mod=mod CGO_ENABLED=0
WORK="$(mktemp -d "${TMPDIR:-/tmp}/berth-k8s-build.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
BUILD_LOG="$DEST/build.log"
: >"$BUILD_LOG"

# Runs a go command, its output both in the build log and on stderr, and stops with its error.
run_go() {
  log "go $*"
  if ! nice -n 10 go "$@" 2>&1 | tee -a "$BUILD_LOG" >&2; then
    die "go $* failed (full log: $BUILD_LOG)"
  fi
}

start_all=$(date +%s)

# ---- etcd: a wrapper module; etcd's own go.mod uses replace directives, which only apply in the main
# module, so the wrapper pins every etcd module to the same release.
if [[ ! -x "$DEST/etcd" ]]; then
  t0=$(date +%s)
  log "building etcd $ETCD_VERSION (module proxy: $(go env GOPROXY))"
  mkdir -p "$WORK/etcd"
  cat >"$WORK/etcd/go.mod" <<EOF
module berth.local/etcd-build

go 1.26

require go.etcd.io/etcd/server/v3 $ETCD_VERSION

replace (
	go.etcd.io/etcd/api/v3 => go.etcd.io/etcd/api/v3 $ETCD_VERSION
	go.etcd.io/etcd/client/pkg/v3 => go.etcd.io/etcd/client/pkg/v3 $ETCD_VERSION
	go.etcd.io/etcd/client/v3 => go.etcd.io/etcd/client/v3 $ETCD_VERSION
	go.etcd.io/etcd/pkg/v3 => go.etcd.io/etcd/pkg/v3 $ETCD_VERSION
	go.etcd.io/etcd/server/v3 => go.etcd.io/etcd/server/v3 $ETCD_VERSION
)
EOF
  cat >"$WORK/etcd/main.go" <<'EOF'
// Command etcd: the upstream entry point, built from the pinned module.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
  (cd "$WORK/etcd" && run_go mod tidy && run_go build -trimpath -ldflags='-s -w' -o "$DEST/etcd.tmp" .)
  mv "$DEST/etcd.tmp" "$DEST/etcd"
  log "etcd built in $(( $(date +%s) - t0 ))s"
fi

# ---- kube-apiserver and kubectl from k8s.io/kubernetes. Its go.mod requires every staging module
# (k8s.io/api, apimachinery, ...) at v0.0.0 and replaces them with ./staging paths that exist only in the
# kubernetes repository; the wrapper replaces each with its published tag v0.<minor>.<patch>.
if [[ ! -x "$DEST/kube-apiserver" || ! -x "$DEST/kubectl" ]]; then
  t0=$(date +%s)
  STAGING_VERSION="v0.${K8S_VERSION#v1.}"
  log "building kube-apiserver and kubectl $K8S_VERSION (staging modules at $STAGING_VERSION)"
  mkdir -p "$WORK/k8s"
  cd "$WORK/k8s"
  cat >go.mod <<EOF
module berth.local/k8s-build

go 1.26
EOF
  run_go mod download -json "k8s.io/kubernetes@$K8S_VERSION" >/dev/null
  K8S_GOMOD="$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$K8S_VERSION.mod"
  [[ -f "$K8S_GOMOD" ]] || die "k8s.io/kubernetes $K8S_VERSION go.mod not found at $K8S_GOMOD"
  # Every k8s.io/* module the kubernetes go.mod requires at v0.0.0 is a staging module.
  mapfile -t STAGING < <(grep -E '^[[:space:]]*k8s\.io/[a-z0-9-]+ v0\.0\.0([[:space:]]|$)' "$K8S_GOMOD" | awk '{print $1}' | sort -u)
  [[ ${#STAGING[@]} -gt 10 ]] || die "found only ${#STAGING[@]} staging modules in $K8S_GOMOD"
  log "${#STAGING[@]} staging modules: ${STAGING[*]}"
  {
    printf '\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$K8S_VERSION"
    for m in "${STAGING[@]}"; do printf '\t%s => %s %s\n' "$m" "$m" "$STAGING_VERSION"; done
    printf ')\n'
  } >>go.mod
  run_go get "k8s.io/kubernetes/cmd/kube-apiserver@$K8S_VERSION" "k8s.io/kubernetes/cmd/kubectl@$K8S_VERSION"
  minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
  ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  mkdir -p "$WORK/out"
  run_go build -trimpath -ldflags="$ldflags" -o "$WORK/out/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl
  mv "$WORK/out/kube-apiserver" "$DEST/kube-apiserver"
  mv "$WORK/out/kubectl" "$DEST/kubectl"
  cd /
  log "kube-apiserver and kubectl built in $(( $(date +%s) - t0 ))s"
fi

"$DEST/etcd" --version >&2 || die "the built etcd does not run"
"$DEST/kube-apiserver" --version >&2 || die "the built kube-apiserver does not run"
"$DEST/kubectl" version --client >&2 || die "the built kubectl does not run"
printf 'k8s=%s etcd=%s built=%s seconds=%s\n' "$K8S_VERSION" "$ETCD_VERSION" "$(date -u +%FT%TZ)" \
  "$(( $(date +%s) - start_all ))" >"$DEST/.complete"
log "done in $(( $(date +%s) - start_all ))s: $DEST"
printf '%s\n' "$DEST"
