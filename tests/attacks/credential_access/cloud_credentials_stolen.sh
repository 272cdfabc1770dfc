#!/bin/bash
# desc: cloud and tool credentials copied out of a home directory: AWS keys, kubeconfig, docker registry login, git credentials
# mitre: T1552.001
# expect: cloud_credentials_read*4, credential_files_searched
source "$ATTACK_LIB"

h="$ATTACK_HOME"
for d in .aws .kube .docker; do [ -e "$h/$d" ] || undo "rm -rf '$h/$d'"; done
[ -e "$h/.git-credentials" ] || undo "rm -f '$h/.git-credentials'"
as_user mkdir -p "$h/.aws" "$h/.kube" "$h/.docker"
as_user sh -c "printf '[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = x\n' > '$h/.aws/credentials'"
as_user sh -c "printf 'apiVersion: v1\nkind: Config\n' > '$h/.kube/config'"
as_user sh -c "printf '{\"auths\": {}}\n' > '$h/.docker/config.json'"
as_user sh -c "printf 'https://u:p@git.example.test\n' > '$h/.git-credentials'"
grep -r -l aws_secret_access_key "$h" >/dev/null 2>&1 || true
cat "$h/.aws/credentials" >/dev/null
tar czf "$ATTACK_TMP/cloud.tgz" -C "$h" .kube .docker
/usr/bin/python3 -c 'import sys; open(sys.argv[1]).read()' "$h/.git-credentials"
