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
# Debian's frr package may start a system instance. It is left alone: the lab runs its own instances
# with -N <name> (own config dir, sockets and PID files) inside network namespaces.
echo "install-deps: done"
