#!/bin/bash
# desc: the cloud metadata service asked for an IAM role's keys and a service account token (curl, wget, python),
# against a metadata service this script runs in a network namespace of its own
# mitre: T1552.005
# expect: cloud_metadata_credentials_requested*2
# timeout: 45
source "$ATTACK_LIB"

ns="tpatk-$ATTACK_ID"
undo "ip netns del $ns"
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" addr add 169.254.169.254/32 dev lo
mkdir -p "$ATTACK_TMP/www/latest/meta-data/iam/security-credentials" \
	"$ATTACK_TMP/www/computeMetadata/v1/instance/service-accounts/default"
echo role >"$ATTACK_TMP/www/latest/meta-data/iam/security-credentials/index.html"
echo '{"access_token": "x"}' >"$ATTACK_TMP/www/computeMetadata/v1/instance/service-accounts/default/token"
ip netns exec "$ns" /usr/bin/python3 -m http.server 80 --bind 169.254.169.254 \
	--directory "$ATTACK_TMP/www" >/dev/null 2>&1 &
server=$!
undo "kill $server"
for _ in $(seq 50); do
	ip netns exec "$ns" curl -s -o /dev/null http://169.254.169.254/ && break
	sleep 0.1
done
ip netns exec "$ns" curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/ >/dev/null
ip netns exec "$ns" wget -q -O /dev/null --header='Metadata-Flavor: Google' \
	http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default/token
