#!/bin/bash
# desc: service accounts running tools they dropped themselves: www-data a binary it wrote in /tmp, nobody one in /dev/shm, www-data through python subprocess from /var/tmp
# mitre: T1105, T1059, T1505.003
# expect: service_account_ran_writable_program*3
source "$ATTACK_LIB"

www() { setpriv --reuid=www-data --regid=www-data --clear-groups env -i PATH=/usr/bin:/bin "$@"; }
nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups env -i PATH=/usr/bin:/bin "$@"; }
getent passwd www-data >/dev/null && getent passwd nobody >/dev/null || exit 77

mkdir drop && chown www-data: drop
www sh -c 'cp /bin/true ./drop/kinsing && ./drop/kinsing'
shm=/dev/shm/$(tmpname)
vt=/var/tmp/$(tmpname)
mkdir "$shm" "$vt"
undo "rm -rf '$shm' '$vt'"
chown nobody "$shm"
chown www-data "$vt"
nobody sh -c "cp /bin/true '$shm/.x' && '$shm/.x'"
www /usr/bin/python3 -c '
import os, shutil, subprocess, sys
p = os.path.join(sys.argv[1], "agent")
shutil.copy("/bin/true", p)
os.chmod(p, 0o755)
subprocess.run([p], check=True)' "$vt"
