#!/bin/busybox sh
# /init of the KVM guest test/vm/guest.ts boots (initramfs built by scripts/provision-vm.sh).
#
# 1. loads the modules listed in /modules/order (virtio-pci, 9p over virtio, vrf, veth, ...);
# 2. mounts the host's root filesystem, exported read-only by qemu over virtio-9p (tag "hostroot"), at
#    /newroot, with fresh proc/sys/dev and tmpfs over the places programs write: /tmp, /run (so /var/run),
#    /etc/frr (FRR -N instances write their config there), /var/log, /var/tmp, /root;
# 3. runs the command named on the kernel command line (berth.run=FILE berth.arg=A1 berth.arg=A2 ..., in
#    directory berth.cwd=DIR) in a
#    chroot of /newroot: node, FRR and the repository are simply the host's;
# 4. prints "BERTH-VM-EXIT <code>" on the console and powers the guest off.
# The guest has no network device at all: the only traffic is inside namespaces the command makes.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

fail() {
  echo "BERTH-VM-ERROR $*"
  echo "BERTH-VM-EXIT 125"
  poweroff -f
}

while read -r m; do
  insmod "/modules/$m.ko" 2>/tmp-insmod.err || fail "insmod $m: $(cat /tmp-insmod.err)"
done </modules/order

mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 hostroot /newroot || fail 'mount of the host root over 9p failed'
mount -t proc proc /newroot/proc
mount -t sysfs sys /newroot/sys
mount -t devtmpfs dev /newroot/dev
mkdir -p /newroot/dev/pts /newroot/dev/shm 2>/dev/null
mount -t devpts devpts /newroot/dev/pts 2>/dev/null
for d in /tmp /run /etc/frr /var/log /var/tmp /root /dev/shm; do
  [ -d "/newroot$d" ] || continue
  mount -t tmpfs -o mode=1777 tmpfs "/newroot$d" || fail "tmpfs on $d"
done
chmod 0755 /newroot/run /newroot/etc/frr /newroot/root
mkdir -p /newroot/run/netns
# The working directory (berth.cwd, the repository) is its own read-only share (tag "berthwork"), mounted
# after the tmpfs above: a clone under /tmp or /root stays visible.
WORK=''
for arg in $(cat /proc/cmdline); do
  case "$arg" in berth.cwd=*) WORK="${arg#berth.cwd=}" ;; esac
done
if [ -n "$WORK" ] && grep -q 'berth.work=1' /proc/cmdline; then
  mkdir -p "/newroot$WORK" 2>/dev/null
  mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 berthwork "/newroot$WORK" || fail "mount of the working directory $WORK failed"
fi
# Optional writable cache shared with the host (tag "berthcache", test/vm/guest.ts): tsx's compile cache, so
# the TypeScript sources are not compiled again on every boot.
if grep -q 'berth.cache=1' /proc/cmdline; then
  mkdir -p /newroot/tmp/tsx-0
  mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 berthcache /newroot/tmp/tsx-0 || fail 'mount of the cache share failed'
fi
# /sys/fs/cgroup and bpf are not needed; ip netns mounts its own /run/netns.

# berth.run=FILE is the program, each berth.arg=WORD one argument (no spaces: the kernel splits on them).
RUN=''
CWD=/
set --
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    berth.run=*) RUN="${arg#berth.run=}" ;;
    berth.arg=*) set -- "$@" "${arg#berth.arg=}" ;;
    berth.cwd=*) CWD="${arg#berth.cwd=}" ;;
  esac
done
[ -n "$RUN" ] || fail 'no berth.run= on the kernel command line'

echo "BERTH-VM-START $RUN $*"
cd "/newroot$CWD" || fail "no directory $CWD"
chroot /newroot /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb \
  /bin/sh -c 'cd "$0" && exec "$@"' "$CWD" "$RUN" "$@" </dev/console
code=$?
echo "BERTH-VM-EXIT $code"
sync
poweroff -f
