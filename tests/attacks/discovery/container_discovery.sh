#!/bin/bash
# desc: a process in a container examining where it is: /proc/1/cgroup, /.dockerenv, the mount table, its capabilities with capsh --print, the disks with fdisk -l
# mitre: T1613, T1082
# expect: container_environment_discovery
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/container.sh"

container_create
ct_sh 'cat /proc/1/cgroup >/dev/null; ls -la /.dockerenv 2>/dev/null; grep -c overlay /proc/self/mountinfo >/dev/null
capsh --print >/dev/null; fdisk -l >/dev/null 2>&1 || true'
