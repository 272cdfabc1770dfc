#!/bin/bash
# desc: tunnels and proxies: a socat relay to another host, ssh local, remote and dynamic port forwards (-L, -R, -D, -o LocalForward), ncat as a relay broker
# mitre: T1572, T1090, T1021.004
# expect: tunnel_or_proxy_started
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/netns.sh"

netns_create
in_ns /usr/bin/python3 -m http.server --bind "$PEER" 8080 >/dev/null 2>&1 &
wait_listen "$PEER" 8080
# A relay: whatever reaches this port goes to the other host.
port=$(free_port)
timeout 10 socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" "TCP:$PEER:8080" &
wait_listen 127.0.0.1 "$port"
curl -s -o /dev/null "http://127.0.0.1:$port/"
wait %2 2>/dev/null || true
# ssh forwards, to a host that has no ssh server: the forwards are asked for,
# the login fails.
nossh=$(free_port)
ssh_try() { timeout 10 ssh -o BatchMode=yes -o ConnectTimeout=3 -p "$nossh" "$@" >/dev/null 2>&1 || true; }
ssh_try -N -L "127.0.0.1:$(free_port):$PEER:8080" root@127.0.0.1
ssh_try -NfR 9000:127.0.0.1:22 root@127.0.0.1
ssh_try -D "127.0.0.1:$(free_port)" -N root@127.0.0.1
ssh_try -o "LocalForward=127.0.0.1:$(free_port) $PEER:8080" root@127.0.0.1
