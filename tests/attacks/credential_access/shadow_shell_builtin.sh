#!/bin/bash
# desc: password hashes read by the shell itself (a read loop, $(<file)): no program is executed
# mitre: T1003.008
# expect: password_hashes_read
source "$ATTACK_LIB"

while IFS=: read -r user hash _; do
	[ "$hash" != "*" ] && [ "$hash" != "!" ] && : "$user"
done </etc/shadow
hashes=$(</etc/gshadow)
: "${#hashes}"
