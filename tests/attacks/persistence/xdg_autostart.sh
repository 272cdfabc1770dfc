#!/bin/bash
# desc: a desktop autostart entry in a user's ~/.config/autostart
# mitre: T1547.013
# expect: autostart_entry_modified
source "$ATTACK_LIB"

d="$ATTACK_HOME/.config/autostart"
[ -e "$ATTACK_HOME/.config" ] || undo "rm -rf '$ATTACK_HOME/.config'"
undo "rm -f '$d/tpatk-$ATTACK_ID.desktop'"
as_user mkdir -p "$d"
as_user sh -c "printf '[Desktop Entry]\nType=Application\nExec=/bin/true\n' > '$d/tpatk-$ATTACK_ID.desktop'"
