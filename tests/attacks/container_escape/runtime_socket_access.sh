#!/bin/bash
# desc: a container runtime API reached through its socket: from a container it was mounted into (-v docker.sock) with curl, python and socat; and by hand on the host
# mitre: T1611, T1610, T1609
# expect: runtime_socket_accessed_from_container, runtime_socket_accessed_by_unusual_program
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/container.sh"

# A stand-in for the docker daemon: answers every request with an empty list.
mkdir sock
/usr/bin/python3 - "$PWD/sock/docker.sock" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1]); s.listen(8); s.settimeout(20)
try:
    while True:
        c, _ = s.accept()
        c.recv(4096)
        c.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]")
        c.close()
except socket.timeout:
    pass
PY
daemon=$!
undo "kill $daemon"
for i in $(seq 1 100); do [ -S sock/docker.sock ] && break; sleep 0.05; done

container_create --bind "$PWD/sock/docker.sock:/run/docker.sock"
ct curl -s --unix-socket /run/docker.sock http://localhost/containers/json >/dev/null
ct /usr/bin/python3 -c '
import socket
s = socket.socket(socket.AF_UNIX); s.connect("/run/docker.sock")
s.sendall(b"GET /images/json HTTP/1.0\r\n\r\n"); s.recv(4096)'
printf 'GET /info HTTP/1.0\r\n\r\n' | ct socat - UNIX-CONNECT:/run/docker.sock >/dev/null
curl -s --unix-socket sock/docker.sock http://localhost/version >/dev/null
