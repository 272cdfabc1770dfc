#!/bin/bash
# desc: implants in temporary, hidden and memory-only files call home to another host: a copy of curl in a hidden dir of /tmp, wget in /dev/shm, curl run from a memfd
# mitre: T1071, T1105
# expect: dropped_program_connected_out
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/netns.sh"

netns_create
in_ns /usr/bin/python3 -m http.server --bind "$PEER" 8080 >/dev/null 2>&1 &
wait_listen "$PEER" 8080

hidden=/tmp/.$(tmpname)
shm=/dev/shm/$(tmpname)
mkdir -p "$hidden" "$shm"
undo "rm -rf '$hidden' '$shm'"
cp /usr/bin/curl "$hidden/.agent" && "$hidden/.agent" -s -o /dev/null "http://$PEER:8080/beacon"
cp /usr/bin/wget "$shm/kupdate" && "$shm/kupdate" -q -O /dev/null "http://$PEER:8080/tasks" || true  # 404: nothing queued
/usr/bin/python3 - "$PEER" <<'PY'
import os, sys
fd = os.memfd_create("agent", 0)
os.write(fd, open("/usr/bin/curl", "rb").read())
pid = os.fork()
if pid == 0:
    os.execv("/proc/self/fd/%d" % fd, ["agent", "-s", "-o", "/dev/null", "http://%s:8080/checkin" % sys.argv[1]])
os.waitpid(pid, 0)
PY
