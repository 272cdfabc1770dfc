"""The events that attackers' techniques leave (issue 11), each triggered
for real by a process the test runs: timestamps set (file.utimes), extended
attributes (file.xattr, with setcap's file capabilities), opens of another
process's /proc/PID/{mem,maps,environ} (file.open proc_target_pid).

One collector (the families these events come from) serves every check. It
runs with a rule file whose rules read the new fields from Lua, so each
family also proves its fields reach the rules; at the end the stored raw
events of the test's processes must come back from `raw cat --json` and
`replay` exactly as they were printed live, and the rules must fire again
on the replay."""
import json
import os
import platform
import shutil
import subprocess
import textwrap

from kernel_helpers import PYTHON, unique_comm
from tapio import (BIN, Collector, TempDir, check, kernel_fields, require_root, run_tests,
                   unique)

# Lua rules over the new fields: each fires only for the test's own tasks
# (comm prefix "tpdet") and names the fields it read in its output.
RULES = textwrap.dedent("""
    local function ours(e) return e.comm:sub(1, 5) == "tpdet" end

    rule {
      name = "det_utimes_explicit",
      events = { "file.utimes" },
      severity = "notice",
      when = function(e)
        return ours(e) and not e.mtime_now and not e.mtime_omit and e.mtime_sec == 1000000000
      end,
      output = "utimes ${path} mtime ${mtime_sec}.${mtime_nsec} atime_now=${atime_now}",
    }

    rule {
      name = "det_setcap",
      events = { "file.xattr" },
      severity = "warning",
      when = function(e)
        return e.name == "security.capability" and e.op_str == "set"
          and e.cap_permitted_str ~= nil and e.cap_permitted_str:find("CAP_SETUID", 1, true) ~= nil
      end,
      output = "caps ${cap_permitted_str} effective=${cap_effective} on ${path}",
    }

    rule {
      name = "det_proc_mem",
      events = { "file.open" },
      severity = "warning",
      when = function(e) return ours(e) and e.proc_target_pid ~= nil end,
      output = "opened ${path} of ${proc_target_pid}",
    }

    rule {
      name = "det_ld_preload",
      events = { "process.exec" },
      severity = "warning",
      when = function(e) return e.env.LD_PRELOAD ~= nil and e.env.HISTFILE == "/dev/null" end,
      output = "preload ${filename} old_comm=${old_comm}",
    }

    rule {
      name = "det_fileless",
      events = { "process.exec" },
      severity = "warning",
      when = function(e) return e.exe_memfd or e.exe_deleted end,
      output = "fileless memfd=${exe_memfd} deleted=${exe_deleted}",
    }

    rule {
      name = "det_stdio_socket",
      events = { "network.stdio_socket" },
      severity = "warning",
      when = function(e) return e.newfd == 0 and e.dport ~= nil end,
      output = "socket onto ${newfd} to ${daddr}:${dport} by ${syscall_str}",
    }

    rule {
      name = "det_rename",
      events = { "process.rename" },
      severity = "notice",
      when = function(e) return e.new_comm == "kworker/tpdet" end,
      output = "renamed ${old_comm} to ${new_comm}",
    }

    rule {
      name = "det_io_uring_open",
      events = { "security.io_uring" },
      severity = "notice",
      when = function(e) return e.op_str == "IORING_OP_OPENAT" and e.path ~= nil end,
      output = "io_uring open ${path}",
    }
""")


X86 = platform.machine() == "x86_64"


class State:
    collector = None
    tmp = None
    pids = set()


S = State()

# ---------------------------------------------------------------------------
# file.utimes, file.xattr, file.open proc_target_pid

FILE_CHILD = textwrap.dedent("""
    import ctypes, json, os, subprocess, time
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    d = %(d)r
    os.chdir(d)
    target = os.path.join(d, 'target')
    os.utime('target', (1000000000, 1000000000.25))        # utimensat, explicit times
    os.utime('target')                                        # utimensat, NULL: both now
    if %(x86)r:
        # utimes(2) with explicit times (glibc's utimes() calls utimensat) and utime(2) with none
        class timeval(ctypes.Structure):
            _fields_ = [('sec', ctypes.c_long), ('usec', ctypes.c_long)]
        tv = (timeval * 2)((7, 8), (9, 10))
        assert libc.syscall(235, b'target', tv) == 0, ctypes.get_errno()
        assert libc.syscall(132, b'target', None) == 0, ctypes.get_errno()
    class timespec(ctypes.Structure):
        _fields_ = [('sec', ctypes.c_long), ('nsec', ctypes.c_long)]
    ts = (timespec * 2)((0, (1 << 30) - 2), (1234567, (1 << 30) - 1))   # atime OMIT, mtime NOW
    assert libc.utimensat(-100, b'target', ts, 0x100) == 0, ctypes.get_errno()
    fd = os.open('target', os.O_RDONLY)
    os.utime(fd, (5, 6))                                      # futimens: utimensat(fd, NULL)
    os.setxattr('target', 'user.tpdet', b'value', os.XATTR_CREATE)
    os.setxattr(fd, 'user.tpdet2', b'v2')                     # fsetxattr
    os.removexattr('target', 'user.tpdet')
    try:
        os.setxattr('link', 'user.x', b'x', follow_symlinks=False)   # lsetxattr: EPERM on a symlink
    except PermissionError:
        pass
    os.close(fd)
    # setxattrat / removexattrat (6.13+): the same numbers on every architecture
    class xattr_args(ctypes.Structure):
        _fields_ = [('value', ctypes.c_uint64), ('size', ctypes.c_uint32), ('flags', ctypes.c_uint32)]
    val = ctypes.create_string_buffer(b'at', 2)
    xa = xattr_args(ctypes.addressof(val), 2, 0)
    at = libc.syscall(463, -100, b'target', 0, b'user.tpdetat', ctypes.byref(xa), ctypes.sizeof(xa))
    rat = libc.syscall(466, -100, b'target', 0, b'user.tpdetat') if at == 0 else -1
    subprocess.run(['setcap', 'cap_setuid,cap_net_raw+ep', target], check=True)
    subprocess.run(['setcap', '-r', target], check=True)
    # /proc files of another process (a child) and of our own
    child = os.fork()
    if child == 0:
        time.sleep(30)
        os._exit(0)
    for f in ('mem', 'maps', 'environ', 'status'):
        os.close(os.open('/proc/%%d/%%s' %% (child, f), os.O_RDONLY))
    os.close(os.open('/proc/%%d/task/%%d/maps' %% (child, child), os.O_RDONLY))
    os.close(os.open('/proc/self/maps', os.O_RDONLY))
    os.kill(child, 9)
    os.waitpid(child, 0)
    print(json.dumps({'child': child, 'setxattrat': at, 'removexattrat': rat}), flush=True)
""")


def run_child(code, comm_prefix="tpdet"):
    exe, comm = unique_comm(S.tmp, comm_prefix)
    p = subprocess.Popen([exe, "-c", code], stdout=subprocess.PIPE, text=True)
    out, _ = p.communicate(timeout=60)
    check(p.returncode == 0, "child exited with %r" % p.returncode)
    S.pids.add(p.pid)
    return p.pid, comm, json.loads(out.strip().splitlines()[-1]) if out.strip() else {}


def test_file_utimes_xattr_proc():
    c = S.collector
    d = os.path.join(S.tmp, "files")
    os.mkdir(d)
    shutil.copy("/bin/true", os.path.join(d, "target"))
    os.symlink("target", os.path.join(d, "link"))
    target = os.path.join(d, "target")
    pid, comm, out = run_child(FILE_CHILD % {"d": d, "x86": X86})

    ev = c.wait_event(type="file.utimes", pid=pid, mtime_sec=1000000000)
    check(ev["path"] == target and ev["syscall_str"] == "utimensat" and ev["ret"] == 0, "utimes %r" % ev)
    check(ev["atime_sec"] == 1000000000 and ev["atime_nsec"] == 0 and ev["mtime_nsec"] == 250000000,
          "explicit times %r" % ev)
    check(not ev["atime_now"] and not ev["mtime_now"] and not ev["atime_omit"] and not ev["mtime_omit"],
          "explicit times are neither now nor omitted %r" % ev)
    want = ["utimensat", "utime"] if X86 else ["utimensat"]
    c.wait_until(lambda: len([e for e in c.find(type="file.utimes", pid=pid)
                              if e["atime_now"] and e["mtime_now"]]) >= len(want), what="utimes 'now' events")
    now = [e for e in c.find(type="file.utimes", pid=pid) if e["atime_now"] and e["mtime_now"]]
    check(sorted(e["syscall_str"] for e in now) == sorted(want),
          "NULL times are 'now' for utimensat (and utime): %r" % now)
    check(all(e["path"] == target for e in now), "relative names made absolute %r" % now)
    if X86:
        tv = c.wait_event(type="file.utimes", pid=pid, syscall_str="utimes")
        check((tv["atime_sec"], tv["atime_nsec"], tv["mtime_sec"], tv["mtime_nsec"]) == (7, 8000, 9, 10000)
              and not tv["atime_now"] and tv["path"] == target, "utimes(2) microseconds %r" % tv)
    om = c.wait_event(type="file.utimes", pid=pid, atime_omit=True)
    check(om["mtime_now"] and not om["atime_now"] and om["flags_str"] == "AT_SYMLINK_NOFOLLOW"
          and om["atime_sec"] == 0 and om["mtime_sec"] == 0, "UTIME_OMIT / UTIME_NOW %r" % om)
    fu = c.wait_event(type="file.utimes", pid=pid, atime_sec=5)
    check(fu["path"] == target and fu["mtime_sec"] == 6, "futimens on a descriptor %r" % fu)

    xs = c.wait_event(type="file.xattr", pid=pid, name="user.tpdet", op_str="set")
    check(xs["path"] == target and xs["size"] == 5 and xs["flags_str"] == "XATTR_CREATE"
          and xs["syscall_str"] == "setxattr" and xs["ret"] == 0 and "cap_permitted" not in xs,
          "setxattr %r" % xs)
    xf = c.wait_event(type="file.xattr", pid=pid, name="user.tpdet2")
    check(xf["syscall_str"] == "fsetxattr" and xf["path"] == target, "fsetxattr %r" % xf)
    xr = c.wait_event(type="file.xattr", pid=pid, name="user.tpdet", op_str="remove")
    check(xr["syscall_str"] == "removexattr" and xr["size"] == 0, "removexattr %r" % xr)
    xl = c.wait_event(type="file.xattr", pid=pid, name="user.x")
    check(xl["syscall_str"] == "lsetxattr" and xl["ret_str"] == "EPERM" and
          xl["path"] == os.path.join(d, "link") and xl["at_flags_str"] == "AT_SYMLINK_NOFOLLOW",
          "lsetxattr on a symlink %r" % xl)
    if out["setxattrat"] == 0:
        xa = c.wait_event(type="file.xattr", pid=pid, name="user.tpdetat", op_str="set")
        check(xa["syscall_str"] == "setxattrat" and xa["size"] == 2 and xa["path"] == target, "setxattrat %r" % xa)
        xra = c.wait_event(type="file.xattr", pid=pid, name="user.tpdetat", op_str="remove")
        check(xra["syscall_str"] == "removexattrat", "removexattrat %r" % xra)

    # setcap: a child of ours sets security.capability, then removes it.
    cap = c.wait_event(type="file.xattr", ppid=pid, comm="setcap", name="security.capability", op_str="set")
    S.pids.add(cap["pid"])
    check(cap["path"] == target and cap["ret"] == 0 and cap["cap_effective"] is True, "setcap %r" % cap)
    check(cap["cap_permitted"] == (1 << 7) | (1 << 13) and cap["cap_permitted_str"] == "CAP_SETUID|CAP_NET_RAW"
          and cap["cap_inheritable"] == 0, "file capabilities %r" % cap)
    rm = c.wait_event(type="file.xattr", ppid=pid, comm="setcap", name="security.capability", op_str="remove")
    S.pids.add(rm["pid"])
    check("cap_permitted" not in rm, "a removal has no capabilities %r" % rm)

    child = out["child"]
    # The opens may still be on their way: wait for each before judging.
    wanted = ["/proc/%d/%s" % (child, f) for f in ("mem", "maps", "environ", "status")]
    wanted += ["/proc/%d/task/%d/maps" % (child, child), "/proc/%d/maps" % pid]
    c.wait_until(lambda: set(wanted) <= {e["path"] for e in c.find(type="file.open", pid=pid)},
                 what="the /proc opens %r" % wanted)
    opens = [e for e in c.find(type="file.open", pid=pid) if e["path"].startswith("/proc/")]
    flagged = {e["path"]: e.get("proc_target_pid") for e in opens}
    for f in ("mem", "maps", "environ"):
        p = "/proc/%d/%s" % (child, f)
        check(flagged.get(p) == child, "%s: proc_target_pid %r" % (p, flagged.get(p)))
    check(flagged.get("/proc/%d/task/%d/maps" % (child, child)) == child, "a thread's maps %r" % flagged)
    check(flagged.get("/proc/%d/status" % child, 0) is None, "status is not flagged %r" % flagged)
    own = [e for e in opens if e["path"] == "/proc/%d/maps" % pid]
    check(own and "proc_target_pid" not in own[0], "our own maps are not flagged %r" % own)

    # The rules read the same fields from Lua.
    a = c.wait_event(rule="det_utimes_explicit", pid=pid)
    check(a["output"] == "utimes %s mtime 1000000000.250000000 atime_now=false" % target, "alert %r" % a)
    a = c.wait_event(rule="det_setcap", pid=cap["pid"])
    check(a["output"] == "caps CAP_SETUID|CAP_NET_RAW effective=true on %s" % target, "alert %r" % a)
    a = c.wait_event(rule="det_proc_mem", pid=pid, path="/proc/%d/mem" % child)
    check(a["output"] == "opened /proc/%d/mem of %d" % (child, child), "alert %r" % a)


# ---------------------------------------------------------------------------
# process.exec context and environment, process.rename, network.listen,
# network.stdio_socket, security.process_vm, security.io_uring(_setup)

EXEC_CHILD = textwrap.dedent("""
    import ctypes, fcntl, json, os, pty, shutil, socket, struct, sys, time
    sys.path.insert(0, %(here)r)
    import uring
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    d = %(d)r
    out = {}

    def forked(fn):
        pid = os.fork()
        if pid == 0:
            try:
                fn()
            finally:
                os._exit(127)
        _, st = os.waitpid(pid, 0)
        return pid, os.waitstatus_to_exitcode(st)

    def exec_env():
        os.execve('/bin/true', ['true'], {'LD_PRELOAD': 'libc.so.6', 'HISTFILE': '/dev/null',
                                          'PYTHONPATH': '/tmp/tpdet', 'TPDET_SECRET': 'hunter2',
                                          'HISTFILE2': 'x'})
    out['env'] = forked(exec_env)

    def exec_memfd():
        fd = os.memfd_create('tpdet', 0)
        with open('/bin/true', 'rb') as f:
            os.write(fd, f.read())
        os.execve('/proc/self/fd/%%d' %% fd, ['memfdtrue'], {})
    out['memfd'] = forked(exec_memfd)

    def exec_deleted():
        p = os.path.join(d, 'deltrue')
        shutil.copy('/bin/true', p)
        fd = os.open(p, os.O_RDONLY)
        os.unlink(p)
        os.execve('/proc/self/fd/%%d' %% fd, ['deltrue'], {})
    out['deleted'] = forked(exec_deleted)

    for name, mode in (('ro_true', 0o755), ('rw_true', 0o777)):
        shutil.copy('/bin/true', os.path.join(d, name))
        os.chmod(os.path.join(d, name), mode)
    os.chmod(d, 0o755)
    def as_nobody(name):
        def run():
            os.setgroups([])
            os.setresgid(65534, 65534, 65534)
            os.setresuid(65534, 65534, 65534)
            os.execve(os.path.join(d, name), [name], {})
        return run
    out['ro'] = forked(as_nobody('ro_true'))
    out['rw'] = forked(as_nobody('rw_true'))

    pid, master = pty.fork()
    if pid == 0:
        os.execve('/bin/true', ['true'], {})
    while True:
        try:
            if not os.read(master, 1024):
                break
        except OSError:
            break
    os.waitpid(pid, 0)
    out['tty'] = (pid, 0)

    srv = socket.socket()
    srv.bind(('127.0.0.1', 0))
    srv.listen(7)
    out['port'] = srv.getsockname()[1]
    def reverse_shell():
        c = socket.create_connection(('127.0.0.1', out['port']))
        os.dup2(c.fileno(), 0)
        os.dup2(c.fileno(), 1)
        os.close(2)
        assert fcntl.fcntl(c.fileno(), fcntl.F_DUPFD, 0) == 2
        os.execve('/bin/true', ['true'], {})
    out['rshell'] = forked(reverse_shell)
    conn, peer = srv.accept()
    out['rshell_port'] = peer[1]
    conn.close()

    def rename():
        assert libc.prctl(15, b'kworker/tpdet', 0, 0, 0) == 0
        with open('/proc/self/comm', 'w') as f:
            f.write('tpdetwritten')
        os._exit(0)
    out['rename'] = forked(rename)

    buf = ctypes.create_string_buffer(b'tpdet-secret', 16)
    child = os.fork()
    if child == 0:
        time.sleep(30)
        os._exit(0)
    class iovec(ctypes.Structure):
        _fields_ = [('base', ctypes.c_void_p), ('len', ctypes.c_size_t)]
    local = ctypes.create_string_buffer(16)
    liov, riov = iovec(ctypes.addressof(local), 16), iovec(ctypes.addressof(buf), 12)
    libc.process_vm_readv.restype = ctypes.c_ssize_t
    n = libc.process_vm_readv(child, ctypes.byref(liov), 1, ctypes.byref(riov), 1, 0)
    assert n == 12 and local.value == b'tpdet-secret', (n, local.value)
    os.kill(child, 9)
    os.waitpid(child, 0)
    out['vm'] = {'child': child, 'addr': ctypes.addressof(buf)}

    r = uring.Ring(8)
    out['ring_fd'] = r.fd
    path = os.path.join(d, 'uring-target')
    open(path, 'w').close()
    fd = r.submit('openat', fd=-100, addr=r.buf(path.encode() + b'\\0'), op_flags=os.O_RDONLY,
                  user_data=0x7d)
    assert fd >= 0, fd
    os.close(fd)
    s = socket.socket()
    sa = struct.pack('<HH4s8x', socket.AF_INET, socket.htons(out['port']), socket.inet_aton('127.0.0.1'))
    res = r.submit('connect', fd=s.fileno(), addr=r.buf(sa), off=len(sa), user_data=0x7e)
    out['uring_connect'] = res
    s.close()
    out['uring_path'] = path
    print(json.dumps(out), flush=True)
""")


def test_exec_context_and_friends():
    c = S.collector
    d = os.path.join(S.tmp, "exec")
    os.mkdir(d)
    os.chmod(S.tmp, 0o711)  # nobody execs files in d
    here = os.path.dirname(os.path.abspath(__file__))
    pid, comm, out = run_child(EXEC_CHILD % {"d": d, "here": here})
    S.pids.update(v[0] for v in out.values() if isinstance(v, list))
    S.pids.add(out["vm"]["child"])
    with open("/proc/self/sessionid") as f:
        sessionid = int(f.read())

    # The environment: only allow-listed names, as the new image got them.
    ev = c.wait_event(type="process.exec", pid=out["env"][0], filename="/bin/true")
    check(ev["env"] == {"LD_PRELOAD": "libc.so.6", "HISTFILE": "/dev/null", "PYTHONPATH": "/tmp/tpdet"},
          "env allow-list %r" % ev.get("env"))
    check(ev["old_comm"] == comm and ev["comm"] == "true", "old_comm %r" % ev)
    check(ev["exe_memfd"] is False and ev["exe_deleted"] is False and ev["exe_writable"] is True
          and ev["exe_ino"] == os.stat("/bin/true").st_ino and ev["exe_dev"] == os.stat("/bin/true").st_dev,
          "exe of /bin/true as root %r" % ev)
    check(ev["sessionid"] == sessionid and ev["sid"] == os.getsid(0) and "tty" not in ev
          and not ev["stdin_socket"], "session %r" % ev)
    check(not ev.get("env_truncated"), "env_truncated %r" % ev)
    mf = c.wait_event(type="process.exec", pid=out["memfd"][0])
    check(mf["exe_memfd"] is True and mf["exe_deleted"] is False and "env" not in mf, "memfd exec %r" % mf)
    de = c.wait_event(type="process.exec", pid=out["deleted"][0])
    check(de["exe_deleted"] is True and de["exe_memfd"] is False, "deleted exec %r" % de)
    ro = c.wait_event(type="process.exec", pid=out["ro"][0])
    rw = c.wait_event(type="process.exec", pid=out["rw"][0])
    check(ro["ret"] == 0 and rw["ret"] == 0, "execs as nobody %r %r" % (ro, rw))
    check(ro["uid"] == 65534 and ro["exe_writable"] is False and rw["exe_writable"] is True,
          "exe_writable for nobody: 0755 %r, 0777 %r" % (ro["exe_writable"], rw["exe_writable"]))
    tt = c.wait_event(type="process.exec", pid=out["tty"][0])
    check(tt.get("tty", "").startswith("pts/") and tt["sid"] == out["tty"][0], "tty and session %r" % tt)

    # network.listen, network.stdio_socket (and the exec after it)
    ls = c.wait_event(type="network.listen", pid=pid, sport=out["port"])
    check(ls["saddr"] == "127.0.0.1" and ls["backlog"] == 7 and ls["ret"] == 0 and ls["protocol_str"] == "IPPROTO_TCP",
          "listen %r" % ls)
    rs = out["rshell"][0]
    # the exec comes after the three dup2/fcntl in the program, and one
    # thread's records reach the ring in order: once it is read, so are they
    rx = c.wait_event(type="process.exec", pid=rs)
    st = sorted(c.find(type="network.stdio_socket", pid=rs), key=lambda e: e["newfd"])
    check([e["newfd"] for e in st] == [0, 1, 2] and [e["syscall_str"] for e in st] == ["dup2", "dup2", "fcntl"],
          "stdio_socket per fd %r" % st)
    check(all(e["daddr"] == "127.0.0.1" and e["dport"] == out["port"] and e["sport"] == out["rshell_port"]
              for e in st), "stdio_socket ends %r" % st)
    check(rx["stdin_socket"] and rx["stdout_socket"] and rx["stderr_socket"], "exec with socket stdio %r" % rx)

    # process.rename
    rn = c.wait_event(type="process.rename", pid=out["rename"][0], new_comm="kworker/tpdet")
    check(rn["old_comm"] == comm and rn["syscall_str"] == "prctl" and rn["target_pid"] == out["rename"][0],
          "prctl rename %r" % rn)
    rw2 = c.wait_event(type="process.rename", pid=out["rename"][0], new_comm="tpdetwritten")
    check(rw2["old_comm"] == "kworker/tpdet" and rw2["syscall_str"] == "write", "/proc/self/comm %r" % rw2)

    # security.process_vm
    vm = c.wait_event(type="security.process_vm", pid=pid)
    check(vm["target_pid"] == out["vm"]["child"] and vm["ret"] == 12 and vm["syscall_str"] == "process_vm_readv"
          and vm["remote_len"] == 12 and int(str(vm["remote_addr"]), 0) == out["vm"]["addr"]
          and vm["local_iovcnt"] == 1 and vm["remote_iovcnt"] == 1, "process_vm %r" % vm)

    # security.io_uring_setup, security.io_uring (where this kernel lets the hook load)
    su = c.wait_event(type="security.io_uring_setup", pid=pid)
    check(su["ret"] == out["ring_fd"] and su["entries"] == 8 and su["sq_entries"] == 8, "io_uring_setup %r" % su)
    if any("tp_io_uring_submit_req" in l and "skipping" in l for l in c.log):
        print("io_uring ops: the hook is not available on this kernel; skipped")
    else:
        op = c.wait_event(type="security.io_uring", pid=pid, op_str="IORING_OP_OPENAT")
        check(op["path"] == out["uring_path"] and op["user_data"] in (0x7d, "0x7d") and op["dfd"] == -100,
              "io_uring openat %r" % op)
        cn = c.wait_event(type="security.io_uring", pid=pid, op_str="IORING_OP_CONNECT")
        check(cn["addr"] == "127.0.0.1" and cn["port"] == out["port"], "io_uring connect %r" % cn)
        a = c.wait_event(rule="det_io_uring_open", pid=pid)
        check(a["output"] == "io_uring open %s" % out["uring_path"], "alert %r" % a)

    # The rules read the same fields from Lua.
    a = c.wait_event(rule="det_ld_preload", pid=out["env"][0])
    check(a["output"] == "preload /bin/true old_comm=%s" % comm, "alert %r" % a)
    a = c.wait_event(rule="det_fileless", pid=out["memfd"][0])
    check(a["output"] == "fileless memfd=true deleted=false", "alert %r" % a)
    a = c.wait_event(rule="det_stdio_socket", pid=rs)
    check(a["output"] == "socket onto 0 to 127.0.0.1:%d by dup2" % out["port"], "alert %r" % a)
    a = c.wait_event(rule="det_rename", pid=out["rename"][0])
    check(a["output"] == "renamed %s to kworker/tpdet" % comm, "alert %r" % a)


# ---------------------------------------------------------------------------

NEW_TYPES = ("file.utimes", "file.xattr", "process.rename", "network.listen", "network.stdio_socket",
             "security.process_vm", "security.io_uring_setup")


def test_raw_storage_and_replay():
    """What was printed live for the test's processes is what raw storage
    gives back, and a replay through the same rules raises the same alerts."""
    c = S.collector
    check(c.stop() == 0, "collector exit code")
    alert_keys = ("rule", "severity", "importance", "tags", "output")
    live = sorted(({k: v for k, v in kernel_fields(e).items() if k not in alert_keys}
                   for e in c.events if e["pid"] in S.pids), key=lambda e: (e["ts"], e["type"]))
    seen = {e["type"] for e in live}
    check(set(NEW_TYPES) <= seen, "live run lacks %r" % (set(NEW_TYPES) - seen))
    r = subprocess.run([BIN, "raw", "cat", c.raw_dir, "--json"], capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, "raw cat: %s" % r.stderr)
    stored = sorted((kernel_fields(json.loads(l)) for l in r.stdout.splitlines()
                     if json.loads(l)["pid"] in S.pids), key=lambda e: (e["ts"], e["type"]))
    check(stored == live, "raw cat differs from live: %d vs %d events; first difference %r" %
          (len(stored), len(live), next(((a, b) for a, b in zip(stored, live) if a != b), None)))
    r = subprocess.run([BIN, "replay", c.raw_dir, "-R", S.rules, "-o", "json"], capture_output=True,
                       text=True, timeout=120)
    check(r.returncode == 0, "replay: %s" % r.stderr)
    replayed = {json.loads(l)["rule"] for l in r.stdout.splitlines()
                if json.loads(l).get("rule") and json.loads(l)["pid"] in S.pids}
    live_rules = {e["rule"] for e in c.events if e.get("rule") and e["pid"] in S.pids}
    check(replayed == live_rules and live_rules, "replayed alerts %r, live %r" % (replayed, live_rules))


def main():
    require_root()
    with TempDir() as tmp:
        S.tmp = tmp
        S.rules = os.path.join(tmp, "rules.lua")
        with open(S.rules, "w") as f:
            f.write(RULES)
        with Collector("-a", "-R", S.rules, "-k", "categories=file,process,network,security", timeout=180) as c:
            S.collector = c
            run_tests([test_file_utimes_xattr_proc, test_exec_context_and_friends,
                       test_raw_storage_and_replay])


if __name__ == "__main__":
    main()
