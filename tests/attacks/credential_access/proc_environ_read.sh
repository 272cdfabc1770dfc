#!/bin/bash
# desc: secrets read out of other processes' environments (/proc/PID/environ): cat, strings, a loop over /proc
# mitre: T1552
# expect: process_environment_read*3
source "$ATTACK_LIB"

DB_PASSWORD="s3cr3t-$ATTACK_ID" sleep 30 &
victim=$!
undo "kill $victim"
sleep 0.2
tr '\0' '\n' </proc/$victim/environ | grep -q DB_PASSWORD
strings /proc/$victim/environ >/dev/null
xargs -0 -n1 -a /proc/$victim/environ echo | grep -q PASSWORD
