#!/bin/bash
# desc: a rootkit module loaded from a temporary file: insmod x.ko, kmod insmod (this kernel has no module support: the attempt is what is seen)
# mitre: T1547.006, T1014
# expect: kernel_module_load_attempted
source "$ATTACK_LIB"

# Not a valid module: a load can never succeed, on any kernel.
head -c 4096 /dev/zero >rootkit.ko
insmod "$PWD/rootkit.ko" 2>/dev/null || true
kmod insmod "$PWD/rootkit.ko" 2>/dev/null || true
cp rootkit.ko /dev/shm/$(tmpname).ko && undo "rm -f /dev/shm/tapio-atk-$ATTACK_ID-*.ko"
insmod /dev/shm/tapio-atk-"$ATTACK_ID"-*.ko 2>/dev/null || true
