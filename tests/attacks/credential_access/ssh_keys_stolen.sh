#!/bin/bash
# desc: a user's SSH private key read and copied away: cat, cp -r of ~/.ssh, a tar of it, base64 for pasting
# mitre: T1552.004
# expect: private_key_read*4
source "$ATTACK_LIB"

ssh="$ATTACK_HOME/.ssh"
[ -d "$ssh" ] || undo "rm -rf '$ssh'"
as_user mkdir -p -m 700 "$ssh"
key="$ssh/id_ed25519_$ATTACK_ID"
undo "rm -f '$key' '$key.pub'"
as_user ssh-keygen -q -t ed25519 -N '' -f "$key"
cat "$key" >/dev/null
cp -r "$ssh" "$ATTACK_TMP/loot"
tar czf "$ATTACK_TMP/keys.tgz" -C "$ATTACK_HOME" .ssh
base64 -w0 "$key" >/dev/null
