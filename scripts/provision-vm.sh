#!/usr/bin/env bash
# Provides what test/vm (tests that need kernel features the host kernel lacks, such as VRF) boots a KVM
# guest with: a Debian kernel (vmlinuz) and a small initramfs holding a static busybox, the kernel modules the
# guest needs (virtio-pci, 9p over virtio, vrf, veth, ...) and test/vm/initramfs-init.sh as /init.
#
# Prints ONE line on stdout: the folder holding `vmlinuz` and `initrd.img`. Progress goes to stderr.
#
# The kernel is NOT installed on the host: `apt-get download` fetches the Debian package and `dpkg-deb -x`
# unpacks it into a cache outside the repository, keyed by the package's version:
#   ${BERTH_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/berth/vm}/<package>_<version>/
# The initramfs is rebuilt when test/vm/initramfs-init.sh changes (its hash is part of the file name).
#
# Knobs: BERTH_VM_KERNEL_PACKAGE (default: what Debian's linux-image-amd64 depends on), BERTH_VM_CACHE.
# Needs: apt-get, dpkg-deb, gzip, busybox (Debian busybox-static), qemu-system-x86_64 (the test).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
INIT="$HERE/../test/vm/initramfs-init.sh"
CACHE_ROOT="${BERTH_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/berth/vm}"
# The modules /init loads, in this order (each after its dependencies, which are added from .modinfo).
MODULES=(virtio_pci virtio_console 9pnet_virtio 9p vrf veth)

log() { printf '[provision-vm %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

for c in apt-get apt-cache dpkg-deb gzip sha256sum; do command -v "$c" >/dev/null || die "$c not found"; done
BUSYBOX="$(command -v busybox || true)"
[[ -n "$BUSYBOX" ]] || die "busybox not found: apt-get install busybox-static"
file_out="$(LC_ALL=C od -An -c -N 4 "$BUSYBOX" | tr -d ' ')"
[[ "$file_out" == '177ELF' ]] || die "$BUSYBOX is not an ELF binary"
if ldd "$BUSYBOX" >/dev/null 2>&1; then die "$BUSYBOX is dynamically linked: apt-get install busybox-static"; fi
[[ -f "$INIT" ]] || die "$INIT not found"

PKG="${BERTH_VM_KERNEL_PACKAGE:-}"
if [[ -z "$PKG" ]]; then
  PKG="$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
  [[ -n "$PKG" ]] || die "cannot resolve linux-image-amd64 to a kernel package (apt-get update?)"
fi
VERSION="$(apt-cache policy "$PKG" | awk '/Candidate:/ {print $2}')"
[[ -n "$VERSION" && "$VERSION" != '(none)' ]] || die "no candidate version for $PKG"
DEST="$CACHE_ROOT/${PKG}_${VERSION}"
KREL="${PKG#linux-image-}"

if [[ ! -f "$DEST/.unpacked" ]]; then
  log "downloading $PKG $VERSION into $DEST"
  rm -rf "$DEST" && mkdir -p "$DEST/dl"
  # apt's sandbox user cannot write into root's home: download into a world-writable temp dir first.
  tmp="$(mktemp -d /tmp/bvr-vm-dl.XXXXXX)"
  chmod 0777 "$tmp"
  (cd "$tmp" && apt-get download "$PKG=$VERSION" >&2) || { rm -rf "$tmp"; die "apt-get download $PKG=$VERSION failed"; }
  mv "$tmp"/*.deb "$DEST/dl/" && rm -rf "$tmp"
  dpkg-deb -x "$DEST"/dl/*.deb "$DEST/root"
  rm -rf "$DEST/dl"
  cp "$DEST/root/boot/vmlinuz-$KREL" "$DEST/vmlinuz"
  cp "$DEST/root/boot/config-$KREL" "$DEST/config"
  touch "$DEST/.unpacked"
fi
grep -q '^CONFIG_NET_VRF=[ym]' "$DEST/config" || die "$PKG has no CONFIG_NET_VRF"

MODDIR="$DEST/root/lib/modules/$KREL"
[[ -d "$MODDIR" ]] || die "$MODDIR missing"
HASH="$( (sha256sum "$INIT"; printf '%s\n' "${MODULES[@]}"; sha256sum "$BUSYBOX") | sha256sum | cut -c1-12)"
INITRD="$DEST/initrd-$HASH.img"
if [[ ! -f "$INITRD" ]]; then
  log "building $INITRD"
  # Module name -> .ko path (names in depends= use '_' where file names may use '-').
  declare -A KO
  while IFS= read -r f; do
    n="${f##*/}"; n="${n%.ko}"; KO["${n//-/_}"]="$f"
  done < <(find "$MODDIR/kernel" -name '*.ko')
  ORDER=()
  declare -A SEEN
  add() { # depth-first: dependencies first
    local m="${1//-/_}"
    [[ -n "${SEEN[$m]:-}" ]] && return 0
    SEEN[$m]=1
    local ko="${KO[$m]:-}"
    if [[ -z "$ko" ]]; then
      grep -q "/$1.ko\$" "$MODDIR/modules.builtin" 2>/dev/null && return 0
      die "module $1 not found in $MODDIR"
    fi
    local deps
    deps="$(tr '\0' '\n' <"$ko" | sed -n 's/^depends=//p' | head -1)"
    local d
    for d in ${deps//,/ }; do add "$d"; done
    ORDER+=("$m")
  }
  for m in "${MODULES[@]}"; do add "$m"; done
  work="$(mktemp -d /tmp/bvr-vm-initrd.XXXXXX)"
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work"/{bin,dev,proc,sys,newroot,modules}
  cp "$BUSYBOX" "$work/bin/busybox"
  cp "$INIT" "$work/init" && chmod 0755 "$work/init"
  : >"$work/modules/order"
  for m in "${ORDER[@]}"; do
    cp "${KO[$m]}" "$work/modules/$m.ko"
    echo "$m" >>"$work/modules/order"
  done
  log "modules: ${ORDER[*]}"
  (cd "$work" && find . | "$BUSYBOX" cpio -o -H newc 2>/dev/null | gzip -1) >"$INITRD.tmp"
  mv "$INITRD.tmp" "$INITRD"
fi
ln -sf "$(basename "$INITRD")" "$DEST/initrd.img"
log "ready: $DEST"
printf '%s\n' "$DEST"
