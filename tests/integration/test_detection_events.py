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
    now = [e for e in c.find(type="file.utimes", pid=pid) if e["atime_now"] and e["mtime_now"]]
    want = ["utimensat", "utime"] if X86 else ["utimensat"]
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

NEW_TYPES = ("file.utimes", "file.xattr")


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
    r = subprocess.run([BIN, "replay", c.raw_dir, "-r", S.rules, "-o", "json"], capture_output=True,
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
        with Collector("-a", "-r", S.rules, "-k", "categories=file", timeout=120) as c:
            S.collector = c
            run_tests([test_file_utimes_xattr_proc, test_raw_storage_and_replay])


if __name__ == "__main__":
    main()
