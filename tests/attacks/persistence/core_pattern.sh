#!/bin/bash
# desc: /proc/sys/kernel/core_pattern rewritten, how a crash handler is turned into a root backdoor
# (the same value is written back: nothing changes)
# mitre: T1546
# expect: kernel_usermode_helper_changed
source "$ATTACK_LIB"

cur=$(cat /proc/sys/kernel/core_pattern)
printf '%s\n' "$cur" >/proc/sys/kernel/core_pattern
