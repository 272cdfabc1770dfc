#!/bin/bash
# desc: a user's own systemd service and timer (~/.config/systemd/user): no root needed, runs at every login
# mitre: T1543.002, T1053.006
# expect: systemd_unit_modified, systemd_timer_modified
source "$ATTACK_LIB"

d="$ATTACK_HOME/.config/systemd/user"
[ -e "$ATTACK_HOME/.config" ] || undo "rm -rf '$ATTACK_HOME/.config'"
undo "rm -f '$d/tpatk-$ATTACK_ID.service' '$d/tpatk-$ATTACK_ID.timer'"
as_user mkdir -p "$d"
as_user sh -c "printf '[Service]\nExecStart=/bin/true\n' > '$d/tpatk-$ATTACK_ID.service'"
as_user sh -c "printf '[Timer]\nOnCalendar=Feb 31\n' > '$d/tpatk-$ATTACK_ID.timer'"
