#!/bin/bash
# desc: interactive shells inside a container, as docker exec -it and kubectl exec give them: sh, bash -i, a shell started by a process in it
# mitre: T1059.004, T1609
# expect: interactive_shell_in_container
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/container.sh"

container_create
echo 'id; hostname' | ct /bin/sh >/dev/null
echo 'id' | ct /bin/bash --norc -i >/dev/null 2>&1
echo 'id' | ct /usr/bin/python3 -c 'import os; os.execv("/bin/bash", ["bash", "--norc"])' >/dev/null
