#!/bin/bash
# desc: ports of another host tried one after another: nc -z over a range, nc -z once per port in a shell loop, a bash /dev/tcp loop, a python connect() loop (the host answers with resets: nothing listens)
# mitre: T1046
# expect: port_scan*4
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/netns.sh"

netns_create
nc -z -w 1 "$PEER" 20-60 >/dev/null 2>&1 || true
bash -c "for p in \$(seq 100 130); do nc -z -w 1 $PEER \$p; done" >/dev/null 2>&1 || true
bash -c "for p in \$(seq 1000 1030); do (exec 3<>/dev/tcp/$PEER/\$p) 2>/dev/null; done" || true
/usr/bin/python3 - "$PEER" <<'PY'
import socket, sys
for port in list(range(8000, 8030)) + [3306, 5432, 6379, 27017]:
    s = socket.socket()
    s.settimeout(1)
    s.connect_ex((sys.argv[1], port))
    s.close()
PY
