#!/bin/bash
# desc: a key file written elsewhere and moved over root's authorized_keys2, and an ~/.ssh/rc login script
# mitre: T1098.004
# expect: ssh_authorized_keys_modified
source "$ATTACK_LIB"

ssh-keygen -q -t ed25519 -N '' -C "attacker-$ATTACK_ID" -f "$ATTACK_TMP/key"
[ -d /root/.ssh ] || undo "rmdir /root/.ssh"
mkdir -p -m 700 /root/.ssh
if [ ! -e /root/.ssh/authorized_keys2 ]; then
	undo "rm -f /root/.ssh/authorized_keys2"
	cp "$ATTACK_TMP/key.pub" "$ATTACK_TMP/ak2"
	mv "$ATTACK_TMP/ak2" /root/.ssh/authorized_keys2
fi
[ -e "$ATTACK_HOME/.ssh" ] || undo "rm -rf '$ATTACK_HOME/.ssh'"
as_user mkdir -p -m 700 "$ATTACK_HOME/.ssh"
[ -e "$ATTACK_HOME/.ssh/rc" ] || undo "rm -f '$ATTACK_HOME/.ssh/rc'"
as_user sh -c "echo ': $ATTACK_ID' > '$ATTACK_HOME/.ssh/rc'"
