#!/usr/bin/env bash
# Installs the Debian packages the tests need when they are missing. Needs root and Debian's apt.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/deps.sh"
missing=()
for entry in $BERTH_DEBIAN_DEPS; do
  cmd=${entry%%:*}; pkg=${entry##*:}
  if [[ $cmd == /* ]]; then [[ -x $cmd ]] && continue; else command -v "$cmd" >/dev/null 2>&1 && continue; fi
  [[ " ${missing[*]-} " == *" $pkg "* ]] || missing+=("$pkg")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: every Debian package is present"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing Debian packages: ${missing[*]} -- run as root, or: apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || { echo "install-deps: apt-get update failed" >&2; exit 1; }
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
  echo "install-deps: apt-get install ${missing[*]} failed" >&2; exit 1; }
# Debian's frr package starts a system instance; berth's lab runs its own instances with -N, so the
# system one is stopped to keep its sockets and the CPU out of the tests.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet frr 2>/dev/null; then systemctl stop frr || true; fi
