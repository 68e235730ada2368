#!/usr/bin/env bash
# The whole test suite, from a fresh clone on a fresh machine (run as root: the network tests build
# network namespaces). Installs what it needs, then: typecheck, lint, unit, integration and Kubernetes
# tests. Fails loudly when a prerequisite cannot be had.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) -ne 0 ]]; then
  echo "test-all: must run as root (network namespaces, raw sockets, FRR)" >&2
  exit 1
fi

echo "== Debian packages"
./scripts/install-deps.sh

echo "== npm ci"
npm ci --no-fund --no-audit 2>&1 | grep -v 'Unknown user config "nodedir"' || true
[[ -d node_modules/tsx ]] || { echo "test-all: npm ci failed" >&2; exit 1; }

echo "== typecheck"
npx tsc --noEmit -p tsconfig.json

echo "== lint"
npx eslint .

echo "== Kubernetes test binaries (etcd, kube-apiserver, kubectl for test/k8s; built once, then cached)"
KUBEBUILDER_ASSETS="$(./scripts/provision-k8s.sh)" || {
  echo "test-all: cannot provide etcd/kube-apiserver/kubectl (the error is above); see docs/testing-k8s.md" >&2; exit 1; }
export KUBEBUILDER_ASSETS

echo "== node binaries (kubelet, kube-proxy, kube-scheduler, kube-controller-manager, helm for test/node and the chart test; built once, then cached)"
./scripts/provision-node.sh >/dev/null || {
  echo "test-all: cannot provide the node binaries (the error is above); see docs/testing-node.md" >&2; exit 1; }

echo "== guest kernel and initramfs for test/vm (a Debian kernel with VRF; downloaded once, then cached)"
./scripts/provision-vm.sh >/dev/null || {
  echo "test-all: cannot provide the test/vm guest kernel (the error is above); see docs/testing-vm.md" >&2; exit 1; }

echo "== tests"
node scripts/run-tests.mjs test
