#!/bin/bash
# desc: logins sprayed from one script across host after host (addresses on loopback, a port nothing listens on: every try fails at once): ssh with a stolen key under timeout, sshpass with a guessed password, scp of a tool to each host
# mitre: T1021.004, T1110.003, T1570
# expect: ssh_fan_out*3
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/netns.sh"

port=$(free_port)
o="-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=2"
printf 'x\n' >tool
bash -c "for h in 2 3 4 5 6; do timeout 10 ssh -o BatchMode=yes $o -p $port root@127.0.0.\$h 'uname -a'; done" \
	>/dev/null 2>&1 || true
bash -c "for h in 12 13 14 15 16; do sshpass -p 'Winter2026!' ssh $o -p $port admin@127.0.0.\$h id; done" \
	>/dev/null 2>&1 || true
bash -c "for h in 22 23 24 25 26; do scp -o BatchMode=yes $o -P $port tool root@127.0.0.\$h:/tmp/; done" \
	>/dev/null 2>&1 || true
