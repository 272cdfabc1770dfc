#!/bin/bash
# desc: eBPF programs loaded into the kernel: a bpftrace probe that runs for a moment, and bpftool loading an object file
# mitre: T1014, T1562
# expect: bpf_program_loaded
source "$ATTACK_LIB"

timeout 30 bpftrace -e 'tracepoint:syscalls:sys_enter_getdents64 { @[comm] = count(); } interval:ms:300 { exit(); }' >/dev/null 2>&1
