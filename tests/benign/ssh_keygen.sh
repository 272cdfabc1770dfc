#!/bin/bash
# desc: a user makes their own SSH key pair and looks at it
source "$ATTACK_LIB"

ssh="$ATTACK_HOME/.ssh"
[ -d "$ssh" ] || undo "rm -rf '$ssh'"
key="$ssh/id_ed25519_$ATTACK_ID"
undo "rm -f '$key' '$key.pub'"
as_user mkdir -p -m 700 "$ssh"
as_user ssh-keygen -q -t ed25519 -N '' -C "dev@example.test" -f "$key"
as_user ssh-keygen -l -f "$key.pub" >/dev/null
