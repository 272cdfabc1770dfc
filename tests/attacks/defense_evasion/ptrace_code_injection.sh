#!/bin/bash
# desc: code injection into a running process with ptrace: attach, POKEDATA into its memory (the same bytes back), detach; python ctypes as public injectors do
# mitre: T1055.008
# expect: ptrace_memory_write
source "$ATTACK_LIB"

sleep 30 &
victim=$!
undo "kill $victim"
/usr/bin/python3 - "$victim" <<'PY'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.restype = ctypes.c_long
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
PTRACE_PEEKDATA, PTRACE_POKEDATA, PTRACE_ATTACH, PTRACE_DETACH = 2, 5, 16, 17
pid = int(sys.argv[1])
# a writable address in the victim: the start of its stack mapping
addr = next(int(l.split("-")[0], 16) for l in open("/proc/%d/maps" % pid) if "[stack]" in l) + 64
assert libc.ptrace(PTRACE_ATTACH, pid, None, None) == 0
os.waitpid(pid, 0)
word = libc.ptrace(PTRACE_PEEKDATA, pid, ctypes.c_void_p(addr), None)
assert libc.ptrace(PTRACE_POKEDATA, pid, ctypes.c_void_p(addr), ctypes.c_void_p(word & 0xffffffffffffffff)) == 0
libc.ptrace(PTRACE_DETACH, pid, None, None)
PY
