#!/bin/bash
# desc: a udev rule that would run a program on a device event (written as a comment here)
# mitre: T1546.017
# expect: udev_rule_modified
source "$ATTACK_LIB"

[ -d /etc/udev/rules.d ] || undo "rmdir /etc/udev/rules.d /etc/udev 2>/dev/null"
mkdir -p /etc/udev/rules.d
f=/etc/udev/rules.d/99-$(tmpname).rules
undo "rm -f $f"
printf '# ACTION=="add", SUBSYSTEM=="net", RUN+="/tmp/x %s"\n' "$ATTACK_ID" >"$f"
