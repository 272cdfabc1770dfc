#!/bin/bash
# desc: a system timer moved into /etc/systemd/system (written elsewhere first, then mv)
# mitre: T1053.006
# expect: systemd_timer_modified
source "$ATTACK_LIB"

t=/etc/systemd/system/$(tmpname).timer
undo "rm -f $t"
printf '[Timer]\nOnCalendar=Feb 31\n[Install]\nWantedBy=timers.target\n' >"$ATTACK_TMP/t"
mv "$ATTACK_TMP/t" "$t"
