#!/bin/bash
# desc: a process running as an ordinary user turns itself into root (an exploit's last step;
# here the user is given CAP_SETUID for it)
# mitre: T1068, T1548
# expect: unprivileged_process_became_root
source "$ATTACK_LIB"

setpriv --reuid="$ATTACK_UID" --regid="$ATTACK_GID" --clear-groups \
	--inh-caps=+setuid --ambient-caps=+setuid \
	/usr/bin/python3 -c 'import os; os.setuid(0); os.execv("/usr/bin/id", ["id"])' >/dev/null
