#!/bin/bash
# desc: other users' shell and database client histories read for typed passwords: cat, grep, tail
# mitre: T1552.003
# expect: shell_history_read*3
source "$ATTACK_LIB"

h="$ATTACK_HOME"
for f in .bash_history .mysql_history; do [ -e "$h/$f" ] || undo "rm -f '$h/$f'"; done
as_user sh -c "printf 'mysql -u root -pS3cret\n' >> '$h/.bash_history'; printf 'SET PASSWORD=x;\n' >> '$h/.mysql_history'"
cat "$h/.bash_history" >/dev/null
grep -i pass "$h/.mysql_history" >/dev/null
tail -n 50 "$h/.bash_history" >/dev/null
