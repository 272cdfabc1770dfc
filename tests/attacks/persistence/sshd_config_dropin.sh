#!/bin/bash
# desc: an sshd configuration drop-in (PermitRootLogin, a second AuthorizedKeysFile), written as a comment
# mitre: T1098.004, T1556
# expect: ssh_server_config_changed
source "$ATTACK_LIB"

[ -d /etc/ssh/sshd_config.d ] || undo "rmdir /etc/ssh/sshd_config.d"
mkdir -p /etc/ssh/sshd_config.d
f=/etc/ssh/sshd_config.d/$(tmpname).conf
undo "rm -f $f"
printf '# PermitRootLogin yes %s\n' "$ATTACK_ID" >"$f"
