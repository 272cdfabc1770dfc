#!/bin/bash
# desc: root runs "ls" and "systemctl" from a directory an attacker can write that sits early in its PATH
# mitre: T1574.007
# expect: root_ran_command_from_writable_dir*2
source "$ATTACK_LIB"

bin="$ATTACK_TMP/.bin"
mkdir "$bin"
printf '#!/bin/sh\nexec /bin/ls "$@"\n' >"$bin/ls"
printf '#!/bin/sh\nexit 0\n' >"$bin/systemctl"
chmod 755 "$bin/ls" "$bin/systemctl"
PATH="$bin:$PATH" bash -c 'ls / >/dev/null; systemctl status >/dev/null'
