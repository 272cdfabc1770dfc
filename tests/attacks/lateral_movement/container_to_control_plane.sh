#!/bin/bash
# desc: a container probing the node's control plane and remote access ports: the kubelet API (10250), the docker API (2375), etcd (2379), ssh; with curl, python and bash's /dev/tcp
# mitre: T1021, T1613, T1552.007
# expect: container_reached_control_plane_port
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/container.sh"

container_create
# Nothing listens on these here: every attempt is refused, and seen.
ct curl -sk -m 3 https://127.0.0.1:10250/pods >/dev/null 2>&1 || true
ct curl -s -m 3 http://127.0.0.1:2375/containers/json >/dev/null 2>&1 || true
ct /usr/bin/python3 -c '
import socket
for port in (2379, 22):
    try:
        socket.create_connection(("127.0.0.1", port), 2).close()
    except OSError:
        pass'
ct bash -c 'exec 3<>/dev/tcp/127.0.0.1/10255' 2>/dev/null || true
