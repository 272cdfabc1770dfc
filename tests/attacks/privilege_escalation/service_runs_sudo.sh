#!/bin/bash
# desc: code running inside a web server process (a program named nginx here) reaches for root with sudo and su
# mitre: T1548.003, T1068
# expect: privilege_tool_run_by_service*2
source "$ATTACK_LIB"

cp /usr/bin/python3 "$ATTACK_TMP/nginx"
"$ATTACK_TMP/nginx" - <<'PY'
import subprocess
subprocess.run(["sudo", "-n", "id"], capture_output=True)
subprocess.run(["su", "-s", "/bin/sh", "-c", "true", "nobody"], capture_output=True)
PY
