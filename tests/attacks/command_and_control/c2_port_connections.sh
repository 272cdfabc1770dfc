#!/bin/bash
# desc: connections to the default ports of C2 handlers, Tor and IRC on another host: nc to 4444 (a Metasploit handler), curl through a SOCKS proxy on 9050, an IRC bot's NICK on 6667, python to 50050 (Cobalt Strike)
# mitre: T1571, T1090.003, T1071
# expect: connection_to_c2_port
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/netns.sh"

netns_create
for p in 4444 6667 50050; do in_ns timeout 15 nc -l "$PEER" "$p" >/dev/null & done
wait_listen "$PEER" 4444
echo 'sysinfo' | nc -N "$PEER" 4444 || true
curl -s -m 3 --socks5-hostname "$PEER:9050" http://example.invalid/ >/dev/null || true
wait_listen "$PEER" 6667
bash -c "printf 'NICK bot%s\r\nUSER b 0 * :b\r\n' \$\$ > /dev/tcp/$PEER/6667" || true
wait_listen "$PEER" 50050
/usr/bin/python3 -c "import socket,sys; socket.create_connection((sys.argv[1], 50050), 3).close()" "$PEER"
