#!/bin/bash
# desc: a user's shell start-up files made to run a payload: echo >> .bashrc, a python append to .profile, sed -i on .zshrc
# mitre: T1546.004
# expect: shell_startup_file_modified*4
source "$ATTACK_LIB"

h="$ATTACK_HOME"
for f in .zshrc; do [ -e "$h/$f" ] || undo "rm -f '$h/$f'"; done
line="(nohup /tmp/.tapio-atk-$ATTACK_ID >/dev/null 2>&1 &) # $ATTACK_ID"
append_line "$h/.bashrc" "$line"
undo "_remove_line '$h/.profile' '$line'"
as_user /usr/bin/python3 -c 'import sys; open(sys.argv[1], "a").write(sys.argv[2] + "\n")' "$h/.profile" "$line"
as_user sh -c "echo '# zsh' > '$h/.zshrc'"
as_user sed -i "1i $line" "$h/.zshrc"
