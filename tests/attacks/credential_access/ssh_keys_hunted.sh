#!/bin/bash
# desc: private keys hunted for across home directories: find by name, grep for the PEM header (which reads them)
# mitre: T1552.004, T1552.001
# expect: credential_files_searched, private_key_read
source "$ATTACK_LIB"

ssh="$ATTACK_HOME/.ssh"
[ -d "$ssh" ] || undo "rm -rf '$ssh'"
as_user mkdir -p -m 700 "$ssh"
key="$ssh/id_rsa_$ATTACK_ID"
undo "rm -f '$key' '$key.pub'"
as_user ssh-keygen -q -t rsa -b 2048 -N '' -f "$key"
find "$ATTACK_HOME" /root -maxdepth 3 -name 'id_*' -not -name '*.pub' 2>/dev/null >/dev/null
grep -rl -- "BEGIN OPENSSH PRIVATE KEY" "$ATTACK_HOME" 2>/dev/null >/dev/null
