#!/bin/bash
# desc: a program executed with argc 0 (execve with a NULL argv), the trick behind PwnKit (CVE-2021-4034)
# mitre: T1068
# expect: exec_without_arguments
source "$ATTACK_LIB"

/usr/bin/python3 - <<'PY'
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
pid = os.fork()
if pid == 0:
    libc.execve(b"/usr/bin/true", None, None)
    os._exit(127)
os.waitpid(pid, 0)
PY
