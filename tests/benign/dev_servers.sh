#!/bin/bash
# desc: a developer's servers: python -m http.server on localhost and on every address (in a namespace of our own), a node HTTP server from a project directory that runs a command per request, a Flask-style python app from the project, nc -l on localhost for a quick file transfer, socat forwarding a local port; each one gets a request
# timeout: 60
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/netns.sh"

work="$ATTACK_HOME/web-$ATTACK_ID"
undo "rm -rf '$work'"
as_user mkdir -p "$work/public"
as_user sh -c "echo hello >'$work/public/index.html'"
as_user tee "$work/server.js" >/dev/null <<'JS'
const http = require("http");
const { exec } = require("child_process");
// a request runs a command, as web apps do (libuv gives it socket pairs as stdio)
const s = http.createServer((req, res) => {
  exec("git --version; uname -r", (err, out) => { res.end(out); s.close(); });
});
s.listen(Number(process.argv[2]), process.argv[3]);
JS
as_user tee "$work/app.py" >/dev/null <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok\n")
s = http.server.HTTPServer((sys.argv[1], int(sys.argv[2])), H)
s.handle_request()
PY
get() { curl -s -m 5 -o /dev/null "http://$1/" || true; }

cd "$work"
p=$(free_port)
as_user timeout 20 /usr/bin/python3 -m http.server --bind 127.0.0.1 --directory public "$p" \
	>/dev/null 2>&1 &
servers=$!
wait_listen 127.0.0.1 "$p"; get "127.0.0.1:$p"
p=$(free_port)
as_user timeout 20 node server.js "$p" 127.0.0.1 &
wait_listen 127.0.0.1 "$p"; get "127.0.0.1:$p"
# servers on every address, reached from outside (a namespace stands for the LAN)
netns_create
in_ns setpriv --reuid="$ATTACK_UID" --regid="$ATTACK_GID" --init-groups \
	timeout 20 /usr/bin/python3 -m http.server --directory public 8000 >/dev/null 2>&1 &
in_ns setpriv --reuid="$ATTACK_UID" --regid="$ATTACK_GID" --init-groups \
	timeout 20 node server.js 3000 0.0.0.0 &
in_ns setpriv --reuid="$ATTACK_UID" --regid="$ATTACK_GID" --init-groups \
	timeout 20 /usr/bin/python3 app.py 0.0.0.0 5000 &
for port in 8000 3000 5000; do
	for i in $(seq 1 100); do in_ns ss -Hltn "sport = :$port" | grep -q . && break; sleep 0.05; done
	get "$PEER:$port"
done
# a quick file transfer and a local port forward
p=$(free_port)
as_user timeout 10 nc -l 127.0.0.1 "$p" >"$ATTACK_TMP/received" &
wait_listen 127.0.0.1 "$p"
nc -N 127.0.0.1 "$p" <public/index.html || true
p2=$(free_port); p3=$(free_port)
as_user timeout 20 /usr/bin/python3 -m http.server --bind 127.0.0.1 --directory public "$p3" \
	>/dev/null 2>&1 &
servers="$servers $!"
wait_listen 127.0.0.1 "$p3"
as_user timeout 10 socat "TCP-LISTEN:$p2,bind=127.0.0.1,reuseaddr" "TCP:127.0.0.1:$p3" &
wait_listen 127.0.0.1 "$p2"; get "127.0.0.1:$p2"
kill $servers 2>/dev/null || true
in_ns sh -c 'kill $(ss -Hltnp | grep -o "pid=[0-9]*" | cut -d= -f2) 2>/dev/null' || true
wait
