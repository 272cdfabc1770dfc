#!/bin/bash
# desc: files destroyed beyond recovery: shred -u, shred -zun3, wipe -f, dd over a file in place then rm, a python overwrite-rename-unlink
# mitre: T1070.004, T1485
# expect: secure_file_deletion
source "$ATTACK_LIB"

loot() { head -c 65536 /dev/urandom >"$1"; }
loot a.tar && shred -u a.tar
loot b.tar && shred -zun3 b.tar
loot c.tar && wipe -f -q -Q 1 c.tar >/dev/null 2>&1 || rm -f c.tar
loot d.tar && dd if=/dev/urandom of=d.tar bs=1k count=64 conv=notrunc status=none && rm d.tar
loot e.tar
/usr/bin/python3 - <<'PY'
import os
n = os.path.getsize("e.tar")
with open("e.tar", "r+b") as f:
    f.write(os.urandom(n))
for k in range(len("e.tar"), 0, -1):
    os.rename("e.tar" if k == len("e.tar") else "0" * (k + 1), "0" * k)
os.unlink("0")
PY
