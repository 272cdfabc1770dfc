#!/bin/bash
# desc: password hashes opened in an editor non-interactively (ed, vim in ex mode)
# mitre: T1003.008
# expect: password_hashes_read*2
source "$ATTACK_LIB"

printf '1,$p\nq\n' | ed -s /etc/shadow >/dev/null
vim -es -N -u NONE -c 'w! '"$ATTACK_TMP"'/copy' -c 'q!' /etc/shadow </dev/null >/dev/null 2>&1 || true
