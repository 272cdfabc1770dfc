"""memory.* events: a real OOM kill in a memory cgroup with a small limit,
executable anonymous / writable / memfd memory from mmap and mprotect (and
none for a file's code), and sampled user page faults from a process that
touches a known region."""
import json
import os
import subprocess
import textwrap
import time

from kernel_helpers import PYTHON
from tapio import Collector, check, require_root, run_tests, unique


def memory_cgroup(name):
    """A new memory cgroup (v1 memory hierarchy, else v2 with the memory
    controller) and the file that sets its limit."""
    with open("/proc/mounts") as f:
        mounts = [l.split() for l in f]
    for dev, path, fs, opts, *_ in mounts:
        if fs == "cgroup" and "memory" in opts.split(","):
            d = os.path.join(path, name)
            os.mkdir(d)
            return d, "memory.limit_in_bytes"
    for dev, path, fs, opts, *_ in mounts:
        if fs == "cgroup2":
            with open(os.path.join(path, "cgroup.subtree_control")) as f:
                if "memory" in f.read().split():
                    d = os.path.join(path, name)
                    os.mkdir(d)
                    return d, "memory.max"
    return None, None


def test_oom_kill_in_small_cgroup():
    cg, limit = memory_cgroup(unique("tapio-oom"))
    check(cg is not None, "no memory cgroup controller to make an OOM kill with")
    try:
        with open(os.path.join(cg, limit), "w") as f:
            f.write(str(32 << 20))
        with Collector("-a", "-k", "categories=memory,process", "-k", "page_fault_sample=0") as c:
            hog = ("import os\nwith open(%r, 'w') as f:\n    f.write(str(os.getpid()))\n"
                   "chunks = []\nwhile True:\n    chunks.append(bytearray(1 << 20))\n") % \
                os.path.join(cg, "cgroup.procs")
            p = subprocess.Popen([PYTHON, "-c", hog])
            rc = p.wait(60)
            check(rc == -9, "the hog ended with %r, not by SIGKILL" % rc)
            oom = c.wait_event(type="memory.oom", victim_pid=p.pid)
            check(oom["victim_comm"] == "python3", "victim comm %r" % oom["victim_comm"])
            check(oom["anon_rss_kb"] > 16 << 10 and oom["total_vm_kb"] >= oom["anon_rss_kb"],
                  "victim sizes %r" % oom)
            check(oom["victim_uid"] == 0, "victim uid %r" % oom["victim_uid"])
            ex = c.wait_event(type="process.exit", pid=p.pid)
            check(ex["signal_str"] == "SIGKILL", "exit %r" % ex)
            c.stop()
    finally:
        for _ in range(50):
            try:
                os.rmdir(cg)
                break
            except OSError:
                time.sleep(0.1)


EXEC_MAPS = textwrap.dedent("""
    import ctypes, json, mmap, os, tempfile
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    def addr(m):
        return ctypes.addressof(ctypes.c_char.from_buffer(m))
    rwx = mmap.mmap(-1, 8192, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    rw = mmap.mmap(-1, 4096, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS,
                   prot=mmap.PROT_READ | mmap.PROT_WRITE)
    assert libc.mprotect(addr(rw), 4096, mmap.PROT_READ | mmap.PROT_EXEC) == 0
    fd = os.memfd_create(%(memfd)r)
    os.ftruncate(fd, 4096)
    code = mmap.mmap(fd, 4096, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_EXEC)
    # A file's code, as a loader maps it: not reported.
    f = tempfile.NamedTemporaryFile()
    f.write(b'x' * 4096); f.flush()
    lib = mmap.mmap(f.fileno(), 4096, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_EXEC)
    plain = mmap.mmap(f.fileno(), 4096, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ)
    data = mmap.mmap(f.fileno(), 4096, flags=mmap.MAP_PRIVATE)
    assert libc.mprotect(addr(data), 4096, mmap.PROT_READ | mmap.PROT_EXEC) == 0, ctypes.get_errno()
    print(json.dumps({"rwx": addr(rwx), "rw": addr(rw)}))
""")


def test_exec_mappings():
    memfd = unique("code")
    with Collector("-a", "-k", "categories=memory", "-k", "page_fault_sample=0") as c:
        p = subprocess.Popen([PYTHON, "-c", EXEC_MAPS % {"memfd": memfd}], stdout=subprocess.PIPE, text=True)
        out = json.loads(p.communicate(timeout=60)[0])
        check(p.returncode == 0, "child failed")
        rwx = c.wait_event(type="memory.mmap_exec", pid=p.pid, addr=out["rwx"])
        check(rwx["prot_str"] == "PROT_READ|PROT_WRITE|PROT_EXEC" and rwx["anonymous"] and rwx["len"] == 8192,
              "rwx mmap %r" % rwx)
        check("MAP_ANONYMOUS" in rwx["flags_str"] and rwx["syscall_str"] == "mmap", "rwx flags %r" % rwx)
        mp = c.wait_event(type="memory.mmap_exec", pid=p.pid, addr=out["rw"], syscall_str="mprotect")
        check(mp["prot_str"] == "PROT_READ|PROT_EXEC" and mp["anonymous"] and mp["ret"] == 0, "mprotect %r" % mp)
        mf = c.wait_event(type="memory.mmap_exec", pid=p.pid, path="/memfd:" + memfd)
        check(mf["anonymous"] and mf["fd"] >= 0 and mf["prot_str"] == "PROT_READ|PROT_EXEC", "memfd map %r" % mf)
        c.stop()
        mine = c.find(type="memory.mmap_exec", pid=p.pid)
        check(not [e for e in mine if e["path"].startswith("/tmp/")],
              "a file's code was reported: %r" % [e for e in mine if e["path"].startswith("/tmp/")])


def test_sampled_page_faults():
    pages, period = 20000, 50
    code = textwrap.dedent("""
        import ctypes, json, mmap, sys
        m = mmap.mmap(-1, %d * 4096, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        base = ctypes.addressof(ctypes.c_char.from_buffer(m))
        print(json.dumps({"base": base})); sys.stdout.flush()
        sys.stdin.readline()
        for i in range(0, len(m), 4096):
            m[i] = 1
    """) % pages
    with Collector("-a", "-k", "categories=memory", "-k", "page_fault_sample=%d" % period) as c:
        p = subprocess.Popen([PYTHON, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        base = json.loads(p.stdout.readline())["base"]
        p.stdin.write("go\n")
        p.stdin.flush()
        check(p.wait(60) == 0, "child failed")
        end = base + pages * 4096
        c.wait_until(lambda: len([e for e in c.find(type="memory.page_fault", pid=p.pid)
                                  if base <= e["addr"] < end]) >= pages // period // 2,
                     what="page faults in the touched region")
        time.sleep(1)
        c.stop()
        mine = [e for e in c.find(type="memory.page_fault", pid=p.pid) if base <= e["addr"] < end]
        check(pages // period // 2 <= len(mine) <= pages // period * 3 // 2,
              "%d sampled faults for %d touched pages at 1 in %d" % (len(mine), pages, period))
        check(all(e["sample_period"] == period and e["ip"] > 0 for e in mine), "fault fields %r" % mine[:2])
        # A sampled stream carries its rate, so counts re-scale.
        check(all(e.get("sample_rate") == period for e in mine), "sample_rate %r" % mine[:2])
        check(len({e["addr"] // 4096 for e in mine}) == len(mine), "the same page sampled twice")


if __name__ == "__main__":
    require_root()
    run_tests([test_oom_kill_in_small_cgroup, test_exec_mappings, test_sampled_page_faults])
