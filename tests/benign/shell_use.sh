#!/bin/bash
# desc: ordinary shell work: files made, searched, sorted, linked, renamed, removed; a small
# script of the user's own run from their home
source "$ATTACK_LIB"

d="$ATTACK_HOME/notes-$ATTACK_ID"
undo "rm -rf '$d'"
as_user bash -c "
set -e
mkdir -p '$d/a/b'
cd '$d'
for i in 1 2 3 4 5; do echo \"line \$i of notes\" >> notes.txt; done
grep -n 'line 3' notes.txt >/dev/null
sed 's/notes/memo/' notes.txt > memo.txt
awk '{ n += length(\$0) } END { print n }' memo.txt >/dev/null
sort -r notes.txt | uniq | wc -l >/dev/null
find . -name '*.txt' -newer a -type f >/dev/null
cp notes.txt a/b/ && mv a/b/notes.txt a/b/old.txt && ln -s a/b/old.txt latest
ls -la >/dev/null; stat latest >/dev/null; du -sh . >/dev/null
printf '#!/bin/sh\necho hi\n' > hello.sh && chmod +x hello.sh && ./hello.sh >/dev/null
history >/dev/null 2>&1 || true
echo \$HOME \$PATH >/dev/null
rm -rf a latest
"
