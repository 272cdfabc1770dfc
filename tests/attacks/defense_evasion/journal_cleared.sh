#!/bin/bash
# desc: journal files removed: journalctl --vacuum-files/--vacuum-time on a journal directory, rm and find -delete of *.journal files
# mitre: T1070.002
# expect: journal_cleared
source "$ATTACK_LIB"

# A journal directory of our own, with archived journal files named the
# way journald names them.
jdir=$ATTACK_TMP/journal/$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
mkdir -p "$jdir"
mk() {
	local i
	for i in 1 2 3; do
		head -c 8192 /dev/urandom >"$jdir/system@0123456789abcdef0123456789abcdef-000000000000000$i-0005f3a1b2c3d4e$i.journal"
	done
	head -c 8192 /dev/urandom >"$jdir/user-1000@0123456789abcdef0123456789abcdef-0000000000000009-0005f3a1b2c3d4e9.journal~"
}
mk
journalctl --directory="$jdir" --vacuum-files=1 >/dev/null 2>&1
journalctl --directory="$jdir" --vacuum-time=1s >/dev/null 2>&1 || true
mk
rm -f "$jdir"/*.journal
mk
find "$jdir" -name '*.journal*' -delete
