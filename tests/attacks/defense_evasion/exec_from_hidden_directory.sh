#!/bin/bash
# desc: tools dropped into hidden directories and run: /tmp/.x/, /dev/shm/.cache/, /var/tmp/.font-unix-like/, a hidden file in a home directory
# mitre: T1564.001
# expect: exec_from_hidden_directory, hidden_file_in_tmp
source "$ATTACK_LIB"

t=/tmp/.$(tmpname)
s=/dev/shm/.$(tmpname)
v=/var/tmp/.$(tmpname)
undo "rm -rf '$t' '$s' '$v'"
mkdir -p "$t/bin" "$s" "$v"
cp /bin/true "$t/bin/miner" && "$t/bin/miner"
cp /bin/true "$s/.x" && "$s/.x"
cp /bin/true "$v/agent" && "$v/agent"
as_user sh -c 'mkdir -p ~/.x && cp /bin/true ~/.x/.update && ~/.x/.update'
