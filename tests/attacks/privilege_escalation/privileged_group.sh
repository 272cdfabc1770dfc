#!/bin/bash
# desc: a user put into privileged groups: usermod -aG sudo, gpasswd -a docker-like groups, adduser USER GROUP
# mitre: T1098
# expect: user_added_to_privileged_group*2
source "$ATTACK_LIB"

undo "gpasswd -d '$ATTACK_USER' sudo"
undo "gpasswd -d '$ATTACK_USER' adm"
usermod -aG sudo "$ATTACK_USER"
gpasswd -a "$ATTACK_USER" adm >/dev/null
