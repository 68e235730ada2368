#!/bin/sh
# Starts FRR the way Debian's init script does (watchfrr + the daemons named in /etc/frr/daemons), then
# stays in the foreground so the container lives; TERM stops FRR.
set -e
/usr/lib/frr/frrinit.sh start
trap '/usr/lib/frr/frrinit.sh stop; exit 0' TERM INT
while :; do sleep 3600 & wait $!; done
