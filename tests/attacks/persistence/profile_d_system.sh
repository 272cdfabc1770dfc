#!/bin/bash
# desc: the system-wide start-up files changed: a script dropped into /etc/profile.d, a line added to /etc/bash.bashrc
# mitre: T1546.004
# expect: shell_startup_file_modified
source "$ATTACK_LIB"

f=/etc/profile.d/$(tmpname).sh
undo "rm -f $f"
printf '# %s\n: harmless\n' "$ATTACK_ID" >"$ATTACK_TMP/p.sh"
cp "$ATTACK_TMP/p.sh" "$f"
append_line /etc/bash.bashrc "# tapio-atk $ATTACK_ID"
