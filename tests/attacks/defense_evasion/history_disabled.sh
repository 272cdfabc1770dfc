#!/bin/bash
# desc: shell history switched off before working: unset HISTFILE, HISTFILE=/dev/null, HISTSIZE=0, set +o history, history -c, env HISTFILE=/dev/null
# mitre: T1562.003, T1070.003
# expect: shell_history_disabled
source "$ATTACK_LIB"

as_user bash -c 'unset HISTFILE; id >/dev/null'
as_user sh -c 'export HISTFILE=/dev/null HISTSIZE=0; id >/dev/null'
as_user bash -c 'set +o history; id >/dev/null'
as_user bash -c 'history -c; id >/dev/null'
as_user env HISTFILE=/dev/null bash -c 'id >/dev/null'
# The way it is typed into an interactive shell: what that shell runs next
# inherits the exported variables.
printf 'export HISTFILE=/dev/null HISTFILESIZE=0\nid\nexit\n' | as_user bash -i >/dev/null 2>&1
