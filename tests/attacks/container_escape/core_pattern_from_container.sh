#!/bin/bash
# desc: kernel callback files written from a container (each set back to its current value): core_pattern with a shell redirect and with python, uevent_helper where the kernel has it
# mitre: T1611, T1546
# expect: kernel_callback_written
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/container.sh"

container_create
ct_sh 'v=$(cat /proc/sys/kernel/core_pattern); printf "%s\n" "$v" > /proc/sys/kernel/core_pattern'
ct /usr/bin/python3 -c '
p = "/proc/sys/kernel/core_pattern"
v = open(p).read()
open(p, "w").write(v)'
ct_sh '[ ! -w /sys/kernel/uevent_helper ] || { v=$(cat /sys/kernel/uevent_helper); printf "%s\n" "$v" > /sys/kernel/uevent_helper; }' 2>/dev/null || true
