#!/bin/bash
# desc: a script planted in /etc/network/if-up.d (runs as root when an interface comes up)
# mitre: T1546
# expect: network_hook_script_modified
source "$ATTACK_LIB"

[ -d /etc/network/if-up.d ] || undo "rmdir /etc/network/if-up.d /etc/network 2>/dev/null"
mkdir -p /etc/network/if-up.d
f=/etc/network/if-up.d/$(tmpname)
undo "rm -f $f"
printf '#!/bin/sh\n: %s\n' "$ATTACK_ID" >"$f"
chmod +x "$f"
