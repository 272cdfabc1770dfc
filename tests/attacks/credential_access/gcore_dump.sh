#!/bin/bash
# desc: a running process dumped to a core file with gdb's gcore, then searched for secrets
# mitre: T1003.007
# expect: process_memory_read
# timeout: 60
source "$ATTACK_LIB"

/usr/bin/python3 -c 'import time; token = "AKIA" + "X" * 16; time.sleep(60)' &
victim=$!
undo "kill $victim"
sleep 0.3
gcore -o "$ATTACK_TMP/core" "$victim" >/dev/null 2>&1
strings "$ATTACK_TMP/core.$victim" | grep -q AKIA
