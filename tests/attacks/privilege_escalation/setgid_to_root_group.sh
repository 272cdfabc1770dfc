#!/bin/bash
# desc: a process outside the root group joins it (given CAP_SETGID for the test)
# mitre: T1068
# expect: unprivileged_process_became_root_group
source "$ATTACK_LIB"

setpriv --reuid="$ATTACK_UID" --regid="$ATTACK_GID" --clear-groups \
	--inh-caps=+setgid --ambient-caps=+setgid \
	/usr/bin/python3 -c 'import os; os.setgid(0)'
