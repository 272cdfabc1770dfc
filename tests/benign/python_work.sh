#!/bin/bash
# desc: python as people use it: scripts, one-liners, modules, byte-compiling, a JSON pipe
source "$ATTACK_LIB"

work="$ATTACK_HOME/py-$ATTACK_ID"
undo "rm -rf '$work'"
as_user mkdir -p "$work/pkg"
as_user tee "$work/pkg/__init__.py" >/dev/null <<'P'
def word_counts(lines):
    counts = {}
    for line in lines:
        for w in line.split():
            counts[w] = counts.get(w, 0) + 1
    return counts
P
as_user tee "$work/report.py" >/dev/null <<'P'
import json, os, sys, subprocess
sys.path.insert(0, os.path.dirname(__file__))
from pkg import word_counts
text = subprocess.run(["uname", "-a"], capture_output=True, text=True).stdout
print(json.dumps(word_counts([text, open("/etc/os-release").read()]), sort_keys=True))
P
cd "$work"
as_user /usr/bin/python3 report.py | as_user /usr/bin/python3 -m json.tool >/dev/null
as_user /usr/bin/python3 -c 'import sys, platform; print(platform.python_version(), sys.prefix)' >/dev/null
as_user /usr/bin/python3 -m compileall -q "$work" >/dev/null
as_user /usr/bin/python3 -m unittest discover -s "$work" >/dev/null 2>&1 || true
/usr/bin/python3 -c 'import os, pwd; [p.pw_name for p in pwd.getpwall()]'
