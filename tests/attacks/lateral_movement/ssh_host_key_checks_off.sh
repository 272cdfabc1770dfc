#!/bin/bash
# desc: logins to hosts never visited, leaving no known_hosts entry: ssh and scp with StrictHostKeyChecking=no and UserKnownHostsFile=/dev/null (the other host has no ssh server: the attempt is what is seen)
# mitre: T1021.004
# expect: ssh_host_key_checking_disabled
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/netns.sh"

netns_create
try() { timeout 10 "$@" >/dev/null 2>&1 || true; }
try ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o ConnectTimeout=3 "root@$PEER" id
try ssh -oStrictHostKeyChecking=no -oBatchMode=yes -oConnectTimeout=3 "admin@$PEER" 'uname -a'
echo x >payload
try scp -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o ConnectTimeout=3 payload "root@$PEER:/tmp/"
