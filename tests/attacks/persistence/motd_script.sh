#!/bin/bash
# desc: a script added to /etc/update-motd.d (pam_motd runs it as root at each login)
# mitre: T1037
# expect: motd_script_modified
source "$ATTACK_LIB"

[ -d /etc/update-motd.d ] || undo "rmdir /etc/update-motd.d"
mkdir -p /etc/update-motd.d
f=/etc/update-motd.d/99-$(tmpname)
undo "rm -f $f"
printf '#!/bin/sh\n: %s\n' "$ATTACK_ID" >"$f"
chmod +x "$f"
