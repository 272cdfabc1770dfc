#!/bin/bash
# desc: history files emptied in place: truncate -s0, a shell redirect, cat /dev/null >, cp /dev/null, python open(..., "w")
# mitre: T1070.003
# expect: shell_history_cleared
source "$ATTACK_LIB"

hist=$ATTACK_HOME/.bash_history
as_user sh -c "printf 'cat /etc/shadow\n' >>'$hist'"
as_user truncate -s0 "$hist"
as_user bash -c ": > ~/.bash_history"
as_user sh -c "cat /dev/null > '$hist'"
as_user cp /dev/null "$hist"
as_user /usr/bin/python3 -c "open('$hist', 'w').close()"
