"""security.* events from a process the test runs: id changes with the ids
before and after, capset, ptrace of a child, bpf(2) commands, memfd_create,
kill, and pidfd_send_signal (the target resolved from the pidfd); module_load is skipped with one warning where the kernel has no
module loading, and every other security program still runs."""
import json
import os
import platform
import subprocess
import textwrap

from kernel_helpers import PYTHON, exit_stats, prog_names, stat
from tapio import Collector, check, require_root, run_tests, unique

NR_BPF = {"x86_64": 321, "aarch64": 280}.get(platform.machine(), 321)

CHILD = textwrap.dedent("""
    import ctypes, os, signal, struct, threading, time
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    libc.ptrace.restype = ctypes.c_long
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    name = %(name)r

    # memfd_create
    os.close(os.memfd_create(name, os.MFD_CLOEXEC))

    # bpf(2): a map created under a unique name, then a lookup (not reported by default)
    mname = name[:15].replace('-', '_')  # map names: letters, digits, '_' and '.'
    attr = struct.pack('IIIII', 2, 4, 4, 1, 0) + bytes(8) + mname.encode().ljust(16, b'\\0')
    attr = ctypes.create_string_buffer(attr, 128)
    fd = libc.syscall(%(nr_bpf)d, 0, attr, 128)
    assert fd >= 0, ctypes.get_errno()
    key, val = ctypes.c_uint(0), ctypes.c_uint(0)
    lookup = ctypes.create_string_buffer(struct.pack('IIQQ', fd, 0, ctypes.addressof(key), ctypes.addressof(val)), 128)
    assert libc.syscall(%(nr_bpf)d, 1, lookup, 128) == 0
    os.close(fd)

    # ptrace, then kill, of a child
    child = os.fork()
    if child == 0:
        time.sleep(30)
        os._exit(0)
    assert libc.ptrace(16, child, None, None) == 0, ctypes.get_errno()   # PTRACE_ATTACH
    os.waitpid(child, 0)
    assert libc.ptrace(17, child, None, None) == 0                       # PTRACE_DETACH
    os.kill(child, signal.SIGTERM)
    os.waitpid(child, 0)
    signal.pthread_kill(threading.get_ident(), 0)                        # tgkill, signal 0

    # capset: drop CAP_NET_RAW from the effective set
    hdr = (ctypes.c_uint32 * 2)(0x20080522, 0)
    data = (ctypes.c_uint32 * 6)()
    assert libc.capget(hdr, data) == 0
    data[0] &= ~(1 << 13)
    assert libc.capset(hdr, data) == 0, ctypes.get_errno()

    # ids: gid then uid, then a failed attempt back to root
    os.setresgid(4321, 4322, 4323)
    os.setresuid(1234, 1235, 1236)
    try:
        os.setuid(0)
    except PermissionError:
        pass
""")


def test_security_subtypes():
    name = unique("sec")
    with Collector("-a", "-k", "categories=security") as c:
        p = subprocess.Popen([PYTHON, "-c", CHILD % {"name": name, "nr_bpf": NR_BPF}])
        check(p.wait(60) == 0, "child failed")
        pid = p.pid

        mf = c.wait_event(type="security.memfd_create", pid=pid, name=name)
        check(mf["ret"] >= 0 and mf["flags_str"] == "MFD_CLOEXEC", "memfd %r" % mf)

        bp = c.wait_event(type="security.bpf", pid=pid, cmd_str="BPF_MAP_CREATE")
        check(bp["name"] == name[:15].replace("-", "_") and bp["map_type_str"] == "ARRAY" and bp["ret"] >= 0, "bpf %r" % bp)

        at = c.wait_event(type="security.ptrace", pid=pid, request_str="PTRACE_ATTACH")
        child = at["target_pid"]
        check(at["ret"] == 0 and child > 0, "ptrace %r" % at)
        c.wait_event(type="security.ptrace", pid=pid, request_str="PTRACE_DETACH", target_pid=child)
        kl = c.wait_event(type="security.kill", pid=pid, target_pid=child, syscall_str="kill")
        check(kl["sig_str"] == "SIGTERM" and kl["ret"] == 0 and kl["fd"] == -1, "kill %r" % kl)
        tg = c.wait_event(type="security.kill", pid=pid, syscall_str="tgkill")
        check(tg["sig"] == 0 and tg["target_pid"] == pid and tg["target_tid"] == pid, "tgkill %r" % tg)

        cs = c.wait_event(type="security.capset", pid=pid)
        check(cs["old_effective"] & (1 << 13) and not cs["effective"] & (1 << 13), "capset %r" % cs)
        check("CAP_NET_RAW" in cs["old_effective_str"] and "CAP_NET_RAW" not in cs["effective_str"],
              "capset names %r" % cs)
        check(cs["permitted"] == cs["old_permitted"] and cs["ret"] == 0, "capset sets %r" % cs)

        g = c.wait_event(type="security.setgid", pid=pid, syscall_str="setresgid")
        check((g["old_gid"], g["old_egid"], g["old_sgid"]) == (0, 0, 0), "old gids %r" % g)
        check((g["new_gid"], g["new_egid"], g["new_sgid"], g["new_fsgid"]) == (4321, 4322, 4323, 4322),
              "new gids %r" % g)
        check((g["arg0"], g["arg1"], g["arg2"]) == (4321, 4322, 4323), "gid args %r" % g)
        u = c.wait_event(type="security.setuid", pid=pid, syscall_str="setresuid")
        check(u["old_uid"] == 0 and (u["new_uid"], u["new_euid"], u["new_suid"]) == (1234, 1235, 1236),
              "uids %r" % u)
        check(u["uid"] == 1234, "the header has the ids after the call: %r" % u["uid"])
        bad = c.wait_event(type="security.setuid", pid=pid, syscall_str="setuid")
        check(bad["ret"] == -1 and bad["ret_str"] == "EPERM" and bad["arg0"] == 0, "failed setuid %r" % bad)
        check(bad["arg1"] == 0xffffffff and bad["new_uid"] == 1234, "failed setuid ids %r" % bad)
        check(c.stop() == 0, "collector exit code")
        lookups = [e for e in c.find(type="security.bpf", pid=pid) if e["cmd_str"] == "BPF_MAP_LOOKUP_ELEM"]
        check(not lookups, "map lookups are not control commands: %r" % lookups)
        check(stat(exit_stats(c), "kernel_filtered_total", category="security", reason="setting") >= 1,
              "the left-out bpf command was not counted")


# pidfd_send_signal: SIGTERM to a child through its pidfd, signal 0 to our
# own thread through a thread pidfd (PIDFD_THREAD = O_EXCL), and a refused
# call with a descriptor that is no pidfd (EBADF). Prints the pids and fds.
PIDFD_CHILD = textwrap.dedent("""
    import ctypes, json, os, signal, time
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    NR_PIDFD_SEND_SIGNAL = 424
    child = os.fork()
    if child == 0:
        time.sleep(30)
        os._exit(0)
    pfd = os.pidfd_open(child)
    assert libc.syscall(NR_PIDFD_SEND_SIGNAL, pfd, signal.SIGTERM, None, 0) == 0, ctypes.get_errno()
    _, status = os.waitpid(child, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM, status
    tfd = os.pidfd_open(os.getpid(), os.O_EXCL)
    assert libc.syscall(NR_PIDFD_SEND_SIGNAL, tfd, 0, None, 0) == 0, ctypes.get_errno()
    nfd = os.open("/dev/null", os.O_RDONLY)
    assert libc.syscall(NR_PIDFD_SEND_SIGNAL, nfd, 0, None, 0) == -1 and ctypes.get_errno() == 9
    print(json.dumps({"child": child, "pfd": pfd, "tfd": tfd, "nfd": nfd}), flush=True)
""")


# Started before the collector: a process with a second thread, both
# waiting on stdin; then every thread takes new gids (glibc's setresgid runs
# the call in each thread). Prints the thread ids.
OLDER_CHILD = textwrap.dedent("""
    import json, os, sys, threading
    go = threading.Event()
    tids = []
    def worker():
        tids.append(threading.get_native_id())
        go.wait()
    t = threading.Thread(target=worker)
    t.start()
    while not tids:
        pass
    print(json.dumps([os.getpid()] + tids), flush=True)
    sys.stdin.readline()
    os.setresgid(4321, 4322, 4323)
    go.set()
    t.join()
""")

# Started after it: drops to nobody (every capability goes), enters a new
# user namespace (every capability in it), then drops CAP_NET_RAW.
USERNS_CHILD = textwrap.dedent("""
    import ctypes, os
    libc = ctypes.CDLL(None, use_errno=True)
    os.setresgid(65534, 65534, 65534)
    os.setresuid(65534, 65534, 65534)
    assert libc.unshare(0x10000000) == 0, ctypes.get_errno()   # CLONE_NEWUSER
    hdr = (ctypes.c_uint32 * 2)(0x20080522, 0)
    data = (ctypes.c_uint32 * 6)()
    assert libc.capget(hdr, data) == 0
    data[0] &= ~(1 << 13)
    assert libc.capset(hdr, data) == 0, ctypes.get_errno()
""")


def test_old_credentials_of_older_threads_and_user_namespaces():
    """The credentials from before a call, for each thread of a process
    older than the agent, and after an unshare of a user namespace (which
    changes the capabilities without a set*id or capset call)."""
    older = subprocess.Popen([PYTHON, "-c", OLDER_CHILD], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    tids = json.loads(older.stdout.readline())
    try:
        with Collector("-a", "-k", "categories=security") as c:
            older.stdin.write("go\n")
            older.stdin.flush()
            check(older.wait(60) == 0, "older child failed")
            for tid in tids:
                g = c.wait_event(type="security.setgid", pid=tids[0], tid=tid, syscall_str="setresgid")
                check((g.get("old_gid"), g.get("old_egid"), g.get("old_fsgid")) == (0, 0, 0),
                      "thread %d older than the agent: old gids %r" % (tid, g))
                check((g["new_gid"], g["new_egid"]) == (4321, 4322), "new gids %r" % g)

            p = subprocess.Popen([PYTHON, "-c", USERNS_CHILD])
            check(p.wait(60) == 0, "user namespace child failed")
            u = c.wait_event(type="security.setuid", pid=p.pid, syscall_str="setresuid")
            check(u.get("old_uid") == 0 and u["new_uid"] == 65534, "uids %r" % u)
            cs = c.wait_event(type="security.capset", pid=p.pid)
            full = 0x1ffffffffff
            check(cs.get("old_effective", 0) & full == full and cs["ret"] == 0,
                  "capset after unshare: the capabilities the user namespace gave %r" % cs)
            check(not cs["effective"] & (1 << 13), "capset %r" % cs)
            check(c.stop() == 0, "collector exit code")
    finally:
        if older.poll() is None:
            older.kill()
            older.wait()


def test_pidfd_send_signal():
    with Collector("-a", "-k", "categories=security") as c:
        p = subprocess.Popen([PYTHON, "-c", PIDFD_CHILD], stdout=subprocess.PIPE, text=True)
        out, _ = p.communicate(timeout=60)
        check(p.returncode == 0, "pidfd child exited with %r" % p.returncode)
        ids = json.loads(out)
        ev = c.wait_event(type="security.kill", pid=p.pid, syscall_str="pidfd_send_signal", fd=ids["pfd"])
        check(ev["target_pid"] == ids["child"] and ev["target_tid"] == 0 and ev["sig_str"] == "SIGTERM"
              and ev["ret"] == 0 and ev["flags"] == 0, "pidfd_send_signal to the child %r" % ev)
        th = c.wait_event(type="security.kill", pid=p.pid, syscall_str="pidfd_send_signal", fd=ids["tfd"])
        check(th["target_tid"] == p.pid and th["target_pid"] == 0 and th["sig"] == 0 and th["ret"] == 0,
              "pidfd_send_signal to a thread pidfd %r" % th)
        bad = c.wait_event(type="security.kill", pid=p.pid, syscall_str="pidfd_send_signal", fd=ids["nfd"])
        check(bad["ret_str"] == "EBADF" and bad["target_pid"] == 0 and bad["target_tid"] == 0,
              "pidfd_send_signal with no pidfd %r" % bad)
        check(c.stop() == 0, "collector exit code")
        mine = c.find(type="security.kill", pid=p.pid)
        check(len(mine) == 3, "kill events of the pidfd child: %r" % mine)


def test_all_bpf_commands_when_asked():
    name = unique("sec")
    with Collector("-a", "-k", "categories=security", "-k", "bpf_commands=all") as c:
        p = subprocess.Popen([PYTHON, "-c", CHILD % {"name": name, "nr_bpf": NR_BPF}])
        check(p.wait(60) == 0, "child failed")
        c.wait_event(type="security.bpf", pid=p.pid, cmd_str="BPF_MAP_LOOKUP_ELEM", ret=0)
        c.stop()


def test_module_load_skipped_with_one_warning():
    hook = os.path.exists("/sys/kernel/tracing/events/module/module_load") or \
        os.path.exists("/sys/kernel/debug/tracing/events/module/module_load")
    with Collector("-o", "none", "-a", "-k", "categories=security", output="json") as c:
        loaded = prog_names(c.proc.pid)
        c.stop()
    warnings = [l for l in c.log if "tp_module_load" in l]
    if hook:
        check("tp_module_load" in loaded and not warnings, "module_load hook exists but %r" % warnings)
    else:
        check(len(warnings) == 1 and "module_load" in warnings[0] and "does not exist" in warnings[0],
              "warnings about module_load: %r" % warnings)
        check("tp_module_load" not in loaded, "a program without a hook is loaded")
    others = [l for l in c.log if "skipping" in l and "tp_module_load" not in l]
    check(not others, "other security programs were skipped: %r" % others)
    check(len(loaded) >= 20, "only %d security programs loaded: %r" % (len(loaded), loaded))


if __name__ == "__main__":
    require_root()
    run_tests([test_security_subtypes, test_old_credentials_of_older_threads_and_user_namespaces,
               test_pidfd_send_signal, test_all_bpf_commands_when_asked,
               test_module_load_skipped_with_one_warning])
