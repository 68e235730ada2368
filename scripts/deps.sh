# Debian packages the test suite needs, by the command that proves each is there.
# docker.io/runc/debootstrap: the containerlab lab (frr-lab/clab.ts: its own dockerd, images from a debootstrap base).
# qemu-system-x86/busybox-static: test/vm (a qemu guest with a Debian kernel that has VRF; scripts/provision-vm.sh).
# Sourced by scripts/test-all.sh and scripts/install-deps.sh. One "command:package" per line.
BERTH_DEBIAN_DEPS="
ip:iproute2
/usr/lib/frr/bgpd:frr
vtysh:frr
/usr/lib/frr/zebra:frr
/usr/lib/frr/bfdd:frr
/usr/lib/frr/staticd:frr
/usr/lib/frr/frr-reload.py:frr-pythontools
ping:iputils-ping
sysctl:procps
setpriv:util-linux
bird:bird2
gobgpd:gobgpd
exabgp:exabgp
arping:arping
ndisc6:ndisc6
tcpdump:tcpdump
nft:nftables
curl:curl
make:make
g++:g++
python3:python3
openssl:openssl
dockerd:docker.io
runc:runc
debootstrap:debootstrap
buildah:buildah
containerd:containerd
/usr/lib/cni/bridge:containernetworking-plugins
conntrack:conntrack
iptables:iptables
qemu-system-x86_64:qemu-system-x86
busybox:busybox-static
"
