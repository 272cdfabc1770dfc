#!/bin/bash
# desc: a directory of the attacker's added to the dynamic linker's search path (ld.so.conf.d)
# mitre: T1574.006
# expect: library_search_path_modified
source "$ATTACK_LIB"

f=/etc/ld.so.conf.d/$(tmpname).conf
undo "rm -f $f"
printf '# %s\n' "$ATTACK_TMP/lib" >"$f"
