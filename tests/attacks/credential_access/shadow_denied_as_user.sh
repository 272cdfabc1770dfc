#!/bin/bash
# desc: an ordinary user tries the password hashes and sudoers (denied): someone without the rights is looking
# mitre: T1003.008
# expect: protected_file_access_denied
source "$ATTACK_LIB"

as_user cat /etc/shadow >/dev/null 2>&1 || true
as_user /usr/bin/python3 -c 'open("/etc/gshadow")' >/dev/null 2>&1 || true
