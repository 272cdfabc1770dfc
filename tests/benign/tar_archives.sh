#!/bin/bash
# desc: archives made and unpacked: tar (gzip, xz), zip, in the user's home
source "$ATTACK_LIB"

d="$ATTACK_HOME/backup-$ATTACK_ID"
undo "rm -rf '$d'"
as_user bash -c "
set -e
mkdir -p '$d/src/docs' '$d/out'
cd '$d'
for i in 1 2 3; do echo doc \$i > src/docs/\$i.txt; done
tar czf out/src.tgz src
tar cJf out/src.txz src
tar tzf out/src.tgz >/dev/null
mkdir x && tar xzf out/src.tgz -C x
zip -q -r out/src.zip src && unzip -q -o out/src.zip -d y
"
