#!/bin/bash
# desc: planted files locked against removal: chattr +i, chattr +a, chattr -R +ia on a directory
# mitre: T1222.002
# expect: file_made_immutable
source "$ATTACK_LIB"

mkdir keys && echo 'ssh-ed25519 AAAA attacker' >keys/authorized_keys
undo "chattr -R -ia '$ATTACK_TMP/keys'"
chattr +i keys/authorized_keys
chattr -i keys/authorized_keys
chattr +a keys/authorized_keys
chattr -R +ia keys
