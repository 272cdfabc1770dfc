"""A minimal io_uring client over raw syscalls (ctypes), for tests: set up a
ring (optionally with an SQPOLL kernel thread), submit one SQE, wait for its
completion. Enough to make the kernel see io_uring operations the way a
program using liburing would, without liburing."""
import ctypes
import mmap
import struct

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long

NR_IO_URING_SETUP = 425  # the same number on every architecture
NR_IO_URING_ENTER = 426

IORING_SETUP_SQPOLL = 1 << 1
IORING_ENTER_GETEVENTS = 1 << 0
IORING_ENTER_SQ_WAKEUP = 1 << 1
IORING_SQ_NEED_WAKEUP = 1 << 0
IORING_OFF_SQ_RING = 0
IORING_OFF_CQ_RING = 0x8000000
IORING_OFF_SQES = 0x10000000

OP = {"read": 22, "openat": 18, "connect": 16, "sendmsg": 9, "send": 26, "socket": 45,
      "unlinkat": 36, "mkdirat": 37, "renameat": 35, "close": 19, "statx": 21}


class Params(ctypes.Structure):
    _fields_ = [("sq_entries", ctypes.c_uint32), ("cq_entries", ctypes.c_uint32),
                ("flags", ctypes.c_uint32), ("sq_thread_cpu", ctypes.c_uint32),
                ("sq_thread_idle", ctypes.c_uint32), ("features", ctypes.c_uint32),
                ("wq_fd", ctypes.c_uint32), ("resv", ctypes.c_uint32 * 3),
                ("sq_off", ctypes.c_uint32 * 8), ("sq_user_addr", ctypes.c_uint64),
                ("cq_off", ctypes.c_uint32 * 8), ("cq_user_addr", ctypes.c_uint64)]


class Ring:
    def __init__(self, entries=8, flags=0, sq_thread_idle=2000):
        self.p = Params()
        self.p.flags = flags
        self.p.sq_thread_idle = sq_thread_idle
        self.fd = libc.syscall(NR_IO_URING_SETUP, entries, ctypes.byref(self.p))
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "io_uring_setup")
        so, co = self.p.sq_off, self.p.cq_off
        # sq_off: head tail ring_mask ring_entries flags dropped array resv1
        self.sq = mmap.mmap(self.fd, so[6] + self.p.sq_entries * 4, mmap.MAP_SHARED,
                            mmap.PROT_READ | mmap.PROT_WRITE, offset=IORING_OFF_SQ_RING)
        # cq_off: head tail ring_mask ring_entries overflow cqes flags resv1
        self.cq = mmap.mmap(self.fd, co[5] + self.p.cq_entries * 16, mmap.MAP_SHARED,
                            mmap.PROT_READ | mmap.PROT_WRITE, offset=IORING_OFF_CQ_RING)
        self.sqes = mmap.mmap(self.fd, self.p.sq_entries * 64, mmap.MAP_SHARED,
                              mmap.PROT_READ | mmap.PROT_WRITE, offset=IORING_OFF_SQES)
        self.keep = []  # buffers the kernel reads until the op completes

    def _u32(self, m, off, v=None):
        if v is None:
            return struct.unpack_from("I", m, off)[0]
        struct.pack_into("I", m, off, v)

    def submit(self, op, fd=0, addr=0, length=0, off=0, op_flags=0, user_data=0, sqe_flags=0):
        """Submit one SQE and wait for its CQE; returns the result (res)."""
        so, co = self.p.sq_off, self.p.cq_off
        tail = self._u32(self.sq, so[1])
        mask = self._u32(self.sq, so[2])
        idx = tail & mask
        sqe = struct.pack("<BBHiQQIIQHHiQQ", OP[op] if isinstance(op, str) else op, sqe_flags, 0,
                          fd, off, addr, length, op_flags, user_data, 0, 0, 0, 0, 0)
        self.sqes[idx * 64:idx * 64 + 64] = sqe
        self._u32(self.sq, so[6] + idx * 4, idx)
        self._u32(self.sq, so[1], tail + 1)
        enter = IORING_ENTER_GETEVENTS
        if self.p.flags & IORING_SETUP_SQPOLL:
            if self._u32(self.sq, so[4]) & IORING_SQ_NEED_WAKEUP:
                enter |= IORING_ENTER_SQ_WAKEUP
            r = libc.syscall(NR_IO_URING_ENTER, self.fd, 0, 1, enter, None, 0)
        else:
            r = libc.syscall(NR_IO_URING_ENTER, self.fd, 1, 1, enter, None, 0)
        if r < 0:
            raise OSError(ctypes.get_errno(), "io_uring_enter")
        head = self._u32(self.cq, co[0])
        cmask = self._u32(self.cq, co[2])
        _, res, _ = struct.unpack_from("QiI", self.cq, co[5] + (head & cmask) * 16)
        self._u32(self.cq, co[0], head + 1)
        return res

    def buf(self, data):
        b = ctypes.create_string_buffer(data, len(data))
        self.keep.append(b)
        return ctypes.addressof(b)
