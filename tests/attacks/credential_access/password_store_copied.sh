#!/bin/bash
# desc: password manager stores taken: a KeePass database and a GNOME keyring file
# mitre: T1555
# expect: password_store_read
source "$ATTACK_LIB"

h="$ATTACK_HOME"
[ -e "$h/.local" ] || undo "rm -rf '$h/.local'"
undo "rm -f '$h/vault-$ATTACK_ID.kdbx'"
as_user mkdir -p "$h/.local/share/keyrings"
as_user sh -c "printf 'KDBX' > '$h/vault-$ATTACK_ID.kdbx'; printf 'GnomeKeyring' > '$h/.local/share/keyrings/login.keyring'"
cp "$h/vault-$ATTACK_ID.kdbx" "$ATTACK_TMP/"
cat "$h/.local/share/keyrings/login.keyring" >/dev/null
