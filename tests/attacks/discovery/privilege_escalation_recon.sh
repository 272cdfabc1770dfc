#!/bin/bash
# desc: the searches privilege escalation scripts start with: set-uid and set-gid programs (find -perm -4000, -u=s, /6000), writable directories (find -writable, -perm -o+w), file capabilities (getcap -r), sudo -l
# mitre: T1083, T1548.001
# expect: privilege_escalation_paths_searched
source "$ATTACK_LIB"

dirs="/usr/bin /usr/sbin /usr/lib/dbus-1.0"
find $dirs -perm -4000 -type f 2>/dev/null >/dev/null
find $dirs -perm -u=s -type f 2>/dev/null >/dev/null
find $dirs -perm /6000 -type f 2>/dev/null >/dev/null
as_user find /etc /var /tmp -maxdepth 2 -writable -type d 2>/dev/null >/dev/null || true
find /etc -maxdepth 2 -perm -o+w -type f 2>/dev/null >/dev/null || true
getcap -r /usr/bin /usr/sbin 2>/dev/null >/dev/null || true
as_user sudo -n -l >/dev/null 2>&1 || true
