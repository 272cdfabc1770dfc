#!/bin/bash
# desc: password hashes read from a script: python, perl, awk
# mitre: T1003.008
# expect: password_hashes_read*3
source "$ATTACK_LIB"

/usr/bin/python3 -c 'import spwd' 2>/dev/null || true
/usr/bin/python3 -c 'print(sum(1 for l in open("/etc/shadow") if l.split(":")[1] not in ("*", "!")))' >/dev/null
perl -ne 'print if (split /:/)[1] =~ /^\$/' /etc/shadow >/dev/null
awk -F: '$2 ~ /^\$/ { print $1 }' /etc/shadow >/dev/null
