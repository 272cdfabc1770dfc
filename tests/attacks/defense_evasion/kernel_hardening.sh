#!/bin/bash
# desc: kernel hardening settings written (each set back to its own current value, so nothing changes): echo > /proc/sys, sysctl -w, python
# mitre: T1562.001
# expect: kernel_hardening_changed
source "$ATTACK_LIB"

for k in kernel/randomize_va_space kernel/kptr_restrict kernel/dmesg_restrict; do
	v=$(cat "/proc/sys/$k")
	sh -c "echo $v > /proc/sys/$k"
done
sysctl -q -w kernel.perf_event_paranoid="$(cat /proc/sys/kernel/perf_event_paranoid)"
/usr/bin/python3 -c '
p = "/proc/sys/fs/protected_symlinks"
v = open(p).read()
open(p, "w").write(v)'
