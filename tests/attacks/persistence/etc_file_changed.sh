#!/bin/bash
# desc: a configuration file under /etc written and removed (file integrity monitoring)
# mitre: T1543
# expect: system_config_changed
source "$ATTACK_LIB"

f=/etc/$(tmpname).conf
undo "rm -f $f"
echo "x=$ATTACK_ID" >"$f"
