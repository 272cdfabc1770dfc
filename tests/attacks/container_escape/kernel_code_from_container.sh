#!/bin/bash
# desc: code for the host's kernel loaded from inside a container: an eBPF socket filter through the raw bpf() syscall, insmod of a module file
# mitre: T1611, T1547.006, T1014
# expect: kernel_code_loaded_from_container
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/container.sh"

container_create
ct /usr/bin/python3 - <<'PY'
import ctypes, struct
libc = ctypes.CDLL(None, use_errno=True)
# r0 = 0; then a few no-op moves; exit: a socket filter that drops everything
insns = [(0xb7, 0, 0, 0, 0)] + [(0xbf, 1, 1, 0, 0)] * 10 + [(0x95, 0, 0, 0, 0)]
prog = b"".join(struct.pack("<BBhi", op, dst | (src << 4), off, imm) for op, dst, src, off, imm in insns)
buf = ctypes.create_string_buffer(prog)
lic = ctypes.create_string_buffer(b"GPL")
attr = struct.pack("<IIQQIIQ", 1, len(insns), ctypes.addressof(buf), ctypes.addressof(lic), 0, 0, 0)
attr = ctypes.create_string_buffer(attr + b"\0" * (128 - len(attr)))
fd = libc.syscall(321, 5, attr, 128)  # bpf(BPF_PROG_LOAD)
assert fd >= 0, ctypes.get_errno()
PY
head -c 4096 /dev/zero >"$CT_ROOT/../rw/upper/x.ko" 2>/dev/null || true
ct_sh 'head -c 4096 /dev/zero > /var/tmp/x.ko; insmod /var/tmp/x.ko 2>/dev/null || true'
