#!/bin/bash
# desc: an ordinary user makes a user namespace to be root in it (unshare -r), the first step of many kernel exploits
# mitre: T1068
# expect: user_namespace_by_unprivileged
source "$ATTACK_LIB"

as_user unshare -U -r id -u >/dev/null 2>&1 || as_user /usr/bin/python3 -c 'import os; os.unshare(os.CLONE_NEWUSER)'
