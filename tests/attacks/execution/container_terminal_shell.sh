#!/bin/bash
# desc: shells on a terminal inside a container, as docker exec -it and kubectl exec -it give them, also with a command (-c): sh -c, bash -c
# mitre: T1059.004, T1609
# expect: interactive_shell_in_container*2
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/container.sh"

container_create
runtime=$(dirname "$ATTACK_LIB")/_runtime/runc
# script(1) gives the command a terminal, as the runtime's -t does
SHELL=/bin/bash script -qec "'$runtime' '$CT_V2/docker/$CT_ID/cgroup.procs' -- $CT_PID /bin/sh -c 'id; tty'" /dev/null </dev/null >/dev/null
SHELL=/bin/bash script -qec "'$runtime' '$CT_V2/docker/$CT_ID/cgroup.procs' -- $CT_PID /bin/bash -c 'cat /etc/hostname'" /dev/null </dev/null >/dev/null
