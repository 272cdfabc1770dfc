#!/bin/bash
# desc: password hashes dumped with the everyday file tools: cat, head, dd, cp of the backup
# mitre: T1003.008
# expect: password_hashes_read*3
source "$ATTACK_LIB"

cat /etc/shadow >/dev/null
head -n 3 /etc/gshadow >/dev/null
dd if=/etc/shadow of="$ATTACK_TMP/s" status=none
if [ -e /etc/shadow- ]; then cp /etc/shadow- "$ATTACK_TMP/s-"; fi
