#!/bin/bash
# desc: another process attached with ptrace by a program that is not a debugger (python ctypes), to read its memory
# mitre: T1055.008, T1003
# expect: ptrace_attach
source "$ATTACK_LIB"

sleep 30 &
victim=$!
undo "kill $victim"
/usr/bin/python3 - "$victim" <<'PY'
import ctypes, os, sys
pid = int(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.restype = ctypes.c_long
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
assert libc.ptrace(16, pid, None, None) == 0  # PTRACE_ATTACH
os.waitpid(pid, 0)
libc.ptrace(2, pid, None, None)  # PTRACE_PEEKTEXT at 0: a read
libc.ptrace(17, pid, None, None)  # PTRACE_DETACH
PY
