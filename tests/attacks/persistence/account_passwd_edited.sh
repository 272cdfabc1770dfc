#!/bin/bash
# desc: an account added by writing /etc/passwd and /etc/shadow directly (echo >>), no account tool;
# the account has no shell and no password
# mitre: T1136.001
# expect: account_database_edited
source "$ATTACK_LIB"

u="bd${ATTACK_ID:0:8}"
uid=$((60000 + RANDOM % 4000))
append_line /etc/passwd "$u:x:$uid:$uid::/nonexistent:/usr/sbin/nologin"
append_line /etc/shadow "$u:!:19000:0:99999:7:::"
