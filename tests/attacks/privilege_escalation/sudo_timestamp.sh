#!/bin/bash
# desc: a sudo timestamp written by hand so sudo skips the password (sudo_inject-style); the user has no sudo rights here
# mitre: T1548.003
# expect: sudo_timestamp_tampered
source "$ATTACK_LIB"

[ -d /run/sudo/ts ] || undo "rmdir /run/sudo/ts"
mkdir -p -m 700 /run/sudo/ts
f=/run/sudo/ts/$ATTACK_USER
[ -e "$f" ] || undo "rm -f $f"
/usr/bin/python3 -c 'import sys; open(sys.argv[1], "ab").write(b"")' "$f"
