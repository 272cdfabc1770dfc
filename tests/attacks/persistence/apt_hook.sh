#!/bin/bash
# desc: an APT hook that would run a command as root at every apt update (written as a comment)
# mitre: T1546.016
# expect: package_manager_hook_modified
source "$ATTACK_LIB"

f=/etc/apt/apt.conf.d/99$(tmpname)
undo "rm -f $f"
printf '// APT::Update::Pre-Invoke {"/tmp/x %s";};\n' "$ATTACK_ID" >"$f"
