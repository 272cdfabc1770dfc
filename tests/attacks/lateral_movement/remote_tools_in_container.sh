#!/bin/bash
# desc: a container used as a foothold to reach other machines: ssh, scp and telnet-like nc run inside it, towards another host
# mitre: T1021, T1021.004
# expect: remote_access_tool_in_container
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/container.sh"

container_create
ct timeout 10 ssh -o BatchMode=yes -o ConnectTimeout=3 -p "$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')" root@127.0.0.1 id >/dev/null 2>&1 || true
echo x >"$CT_DIR/payload"
ct timeout 10 scp -o BatchMode=yes -o ConnectTimeout=3 /etc/hostname root@127.0.0.1:/tmp/ >/dev/null 2>&1 || true
ct timeout 10 sshpass -p hunter2 ssh -o BatchMode=yes -o ConnectTimeout=3 root@127.0.0.1 id >/dev/null 2>&1 || true
