#!/bin/bash
# desc: an admin looks around a server: processes, disks, memory, network, users, logs
source "$ATTACK_LIB"

ps aux >/dev/null
ps -ef --forest >/dev/null
top -b -n 1 >/dev/null
uptime >/dev/null
free -m >/dev/null
df -h >/dev/null
lsblk >/dev/null 2>&1 || true
mount >/dev/null
ip addr >/dev/null
ip route >/dev/null
ss -tlnp >/dev/null
id >/dev/null
who >/dev/null || true
uname -a >/dev/null
hostname >/dev/null
cat /proc/cpuinfo /proc/meminfo >/dev/null
ls -l /var/log >/dev/null
find /var/log -maxdepth 1 -name '*.log' >/dev/null
tail -n 5 /var/log/dpkg.log >/dev/null 2>&1 || true
getent passwd "$ATTACK_USER" >/dev/null
groups "$ATTACK_USER" >/dev/null
