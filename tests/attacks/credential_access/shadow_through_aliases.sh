#!/bin/bash
# desc: password hashes read under another name: a symlink, /proc/self/root, a hard link, a bind mount in a private mount namespace
# mitre: T1003.008
# expect: password_hashes_read*3, credential_file_aliased*2
source "$ATTACK_LIB"

# A symlink and /proc/self/root resolve to /etc/shadow itself.
ln -s /etc/shadow "$ATTACK_TMP/notes.txt"
cat "$ATTACK_TMP/notes.txt" >/dev/null
head -c 64 /proc/self/root/etc/shadow >/dev/null
cd /etc && tail -n 2 ./../etc/./shadow >/dev/null && cd "$ATTACK_TMP"

# A hard link is the same file under a name nobody watches ($ATTACK_TMP
# is on the root file system here; the link goes with it).
if ln /etc/shadow "$ATTACK_TMP/h" 2>/dev/null; then
  undo "rm -f '$ATTACK_TMP/h'"
  dd if="$ATTACK_TMP/h" of=/dev/null status=none
fi

# A bind mount shows it at another path, in a namespace that dies with it.
: >"$ATTACK_TMP/b"
unshare -m sh -c "mount --make-rprivate / && mount --bind /etc/shadow '$ATTACK_TMP/b' && od -c '$ATTACK_TMP/b' >/dev/null"
