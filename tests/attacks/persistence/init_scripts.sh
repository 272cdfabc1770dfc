#!/bin/bash
# desc: boot scripts: a line added to /etc/rc.local, an init.d script with its rc2.d start link
# mitre: T1037.004
# expect: init_script_modified*3
source "$ATTACK_LIB"

name=$(tmpname)
undo "rm -f /etc/init.d/$name /etc/rc2.d/S99$name"
[ -d /etc/rc2.d ] || undo "rmdir /etc/rc2.d"
append_line /etc/rc.local "# $ATTACK_ID"
printf '#!/bin/sh\n: %s\n' "$ATTACK_ID" >/etc/init.d/$name
chmod +x /etc/init.d/$name
mkdir -p /etc/rc2.d
ln -s ../init.d/$name /etc/rc2.d/S99$name
