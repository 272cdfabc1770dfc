#!/bin/bash
# desc: timestomping: a planted file gets another file's timestamps (touch -r, --reference), a chosen past date (touch -d, -t, -amt), or old times from a script (python os.utime, perl utime)
# mitre: T1070.006
# expect: file_timestamps_forged
source "$ATTACK_LIB"

printf '#!/bin/sh\n' >implant
touch -r /bin/ls implant
touch --reference=/etc/hostname implant
touch -d '2019-03-14 09:26:53' implant
touch -amt 201903140926.53 implant
/usr/bin/python3 -c 'import os; st = os.stat("/bin/ls"); os.utime("implant", (st.st_atime, st.st_mtime))'
perl -e 'utime(1552555613, 1552555613, "implant") or die'
