#!/bin/bash
# desc: a backdoor account made with useradd (and a group with groupadd), then removed
# mitre: T1136.001
# expect: account_created*2
source "$ATTACK_LIB"

u="bd${ATTACK_ID:0:8}"
undo "userdel -f '$u'; groupdel '${u}g'"
useradd -M -s /usr/sbin/nologin "$u"
groupadd "${u}g"
