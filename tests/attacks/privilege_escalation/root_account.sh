#!/bin/bash
# desc: a second uid 0 account made with useradd -o -u 0 (no shell, locked), then removed
# mitre: T1136.001, T1078.003
# expect: root_account_created, account_created
source "$ATTACK_LIB"

u="r0${ATTACK_ID:0:8}"
undo "userdel -f '$u'"
useradd -o -u 0 -g 0 -M -s /usr/sbin/nologin "$u"
