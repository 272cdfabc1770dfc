#!/bin/bash
# desc: tools renamed as kernel threads and daemons and run from temporary places: kworker in /tmp, sshd in /dev/shm, crond via a symlink, systemd-journald in /var/tmp
# mitre: T1036.005, T1036.004
# expect: program_masquerading_as_system_daemon
source "$ATTACK_LIB"

shm=/dev/shm/$(tmpname)
vt=/var/tmp/$(tmpname)
mkdir "$shm" "$vt"
undo "rm -rf '$shm' '$vt'"
cp /bin/sleep kworker && ./kworker 0
cp /bin/sleep "$shm/sshd" && "$shm/sshd" 0
ln -s /bin/sleep crond && ./crond 0
cp /bin/sleep "$vt/systemd-journald" && "$vt/systemd-journald" 0
cp /bin/sleep "ksoftirqd" && PATH=$PWD:$PATH ksoftirqd 0
