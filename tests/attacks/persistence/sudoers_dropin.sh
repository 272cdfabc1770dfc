#!/bin/bash
# desc: a sudoers drop-in written with tee and checked with visudo (it holds only a comment here)
# mitre: T1548.003
# expect: sudoers_modified
source "$ATTACK_LIB"

f=/etc/sudoers.d/$(tmpname | tr -d .)
undo "rm -f $f"
printf '# %s ALL=(ALL) NOPASSWD: ALL\n' "$ATTACK_USER" | tee "$f" >/dev/null
chmod 440 "$f"
visudo -c -q -f "$f" >/dev/null 2>&1 || true
