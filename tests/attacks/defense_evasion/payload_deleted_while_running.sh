#!/bin/bash
# desc: droppers that start a payload and delete its file while it runs: a shell's `./x & rm x`, python Popen then os.unlink, a payload in /dev/shm removed by find -delete
# mitre: T1070.004, T1620
# expect: running_program_file_deleted*3
source "$ATTACK_LIB"

# each payload waits until its file is gone, then ends
cp /bin/sleep ./payload
./payload 3 &
p=$!
sleep 0.3
rm -f ./payload
kill "$p"; wait "$p" 2>/dev/null || true
cp /bin/sleep ./stage
/usr/bin/python3 - <<'PY'
import os, subprocess, time
p = subprocess.Popen(["./stage", "3"])
time.sleep(0.3)
os.unlink("stage")
p.kill()
p.wait()
PY
shm=/dev/shm/$(tmpname)
mkdir "$shm"
undo "rm -rf '$shm'"
cp /bin/sleep "$shm/kdevtmpfs"
"$shm/kdevtmpfs" 3 &
p=$!
sleep 0.3
find "$shm" -name kdevtmpfs -delete
kill "$p"; wait "$p" 2>/dev/null || true
