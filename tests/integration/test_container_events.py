"""container.* events: unshare and setns (unshare/nsenter from util-linux),
clone and clone3 into new namespaces (raw syscalls from a Python helper),
a tmpfs mount in a private mount namespace (and a file opened through it,
whose path crosses the mount), one made with the new mount API (fsopen,
fsconfig, fsmount, move_mount) and its umount2, cgroups created, joined and removed on the
v2 hierarchy and on a v1 one."""
import json
import os
import platform
import subprocess
import time

from kernel_helpers import PYTHON, exit_stats, stat
from tapio import Collector, TempDir, check, require_root, run_tests, unique


def cgroup_mount(fstype, option=None):
    with open("/proc/mounts") as f:
        for line in f:
            dev, path, fs, opts = line.split()[:4]
            if fs == fstype and (option is None or option in opts.split(",")):
                return path
    return None


def test_unshare_and_setns():
    with Collector("-a", "-k", "categories=container") as c:
        u = subprocess.run(["unshare", "--net", "--uts", "true"], timeout=30)
        check(u.returncode == 0, "unshare failed")
        holder = subprocess.Popen(["unshare", "--net", "sleep", "30"])
        try:
            ns = "/proc/%d/ns/net" % holder.pid
            deadline = time.monotonic() + 10
            while os.readlink(ns) == os.readlink("/proc/self/ns/net") and time.monotonic() < deadline:
                time.sleep(0.05)  # until unshare has run in the holder
            ino = os.stat(ns).st_ino
            n = subprocess.Popen(["nsenter", "--net=" + ns, "true"])
            check(n.wait(30) == 0, "nsenter failed")
        finally:
            holder.kill()
            holder.wait()
        un = c.wait_until(lambda: next((e for e in c.find(type="container.unshare")
                                        if e["comm"] == "unshare" and "CLONE_NEWUTS" in e.get("flags_str", "")),
                                       None), what="unshare --net --uts")
        check("CLONE_NEWNET" in un["flags_str"] and un["ret"] == 0, "unshare %r" % un)
        check(un["syscall_str"] == "unshare", "unshare syscall %r" % un)
        c.wait_event(type="container.unshare", pid=holder.pid, flags_str="CLONE_NEWNET", ret=0)
        sn = c.wait_event(type="container.setns", pid=n.pid)
        check(sn["ns_ino"] == ino and sn["nstype_str"] == "CLONE_NEWNET" and sn["ret"] == 0, "setns %r" % sn)
        c.stop()


# Raw clone and clone3 (Python has no os.clone): each child checks that it
# is in a UTS namespace of its own and exits. Then a clone3 the kernel
# refuses (CLONE_NEWNS with CLONE_FS: EINVAL) and a plain fork. Prints the
# children's pids as JSON.
CLONE_HELPER = r"""
import ctypes, json, os, struct, sys
NR = {"x86_64": (56, 435), "aarch64": (220, 435)}[%(machine)r]
CLONE_NEWNS, CLONE_NEWUTS, CLONE_FS, SIGCHLD = 0x20000, 0x04000000, 0x200, 17
FLAGS = CLONE_NEWUTS | CLONE_NEWNS
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
uts = os.readlink("/proc/self/ns/uts")

def child(pid, new_ns=True):
    if pid == 0:
        os._exit(0 if (os.readlink("/proc/self/ns/uts") != uts) == new_ns else 3)
    if pid < 0:
        sys.exit("clone failed: errno %%d" %% ctypes.get_errno())
    _, status = os.waitpid(pid, 0)
    if status != 0:
        sys.exit("child %%d: status %%d" %% (pid, status))
    return pid

def clone_args(flags):  # struct clone_args, CLONE_ARGS_SIZE_VER0 (64 bytes)
    return ctypes.create_string_buffer(struct.pack("8Q", flags, 0, 0, 0, SIGCHLD, 0, 0, 0), 64)

out = {}
out["clone"] = child(libc.syscall(NR[0], ctypes.c_ulong(FLAGS | SIGCHLD), 0, None, None, 0))
out["clone3"] = child(libc.syscall(NR[1], clone_args(FLAGS), ctypes.c_size_t(64)))
if libc.syscall(NR[1], clone_args(FLAGS | CLONE_FS), ctypes.c_size_t(64)) != -1 or ctypes.get_errno() != 22:
    sys.exit("clone3 with CLONE_NEWNS|CLONE_FS did not fail with EINVAL")
out["fork"] = child(os.fork(), new_ns=False)
print(json.dumps(out), flush=True)
"""

CLONE_NEW_FLAGS = 0x04020000  # CLONE_NEWUTS | CLONE_NEWNS, without the exit signal


def run_clone_helper():
    p = subprocess.Popen([PYTHON, "-c", CLONE_HELPER % {"machine": platform.machine()}],
                         stdout=subprocess.PIPE, text=True)
    out, _ = p.communicate(timeout=60)
    check(p.returncode == 0, "clone helper exited with %r" % p.returncode)
    return p.pid, json.loads(out)


def test_clone_into_new_namespaces():
    with Collector("-a", "-k", "categories=container") as c:
        pid, kids = run_clone_helper()
        cl = c.wait_event(type="container.unshare", pid=pid, syscall_str="clone")
        check(cl["ret"] == kids["clone"] and cl["flags"] == CLONE_NEW_FLAGS, "clone %r" % cl)
        check(set(cl["flags_str"].split("|")) == {"CLONE_NEWNS", "CLONE_NEWUTS"}, "clone flags %r" % cl)
        c3 = c.wait_event(type="container.unshare", pid=pid, syscall_str="clone3", ret=kids["clone3"])
        check(c3["flags"] == CLONE_NEW_FLAGS, "clone3 %r" % c3)
        bad = c.wait_event(type="container.unshare", pid=pid, syscall_str="clone3", ret_str="EINVAL")
        check(bad["flags"] == CLONE_NEW_FLAGS | 0x200, "failed clone3 %r" % bad)
        check(c.stop() == 0, "collector exit code")
        # One event per clone, from the caller: the children (whose side of
        # the syscall returns 0) and the plain fork report nothing.
        mine = [e for e in c.find(type="container.unshare") if e["pid"] in (pid, *kids.values())]
        check(len(mine) == 3, "clone events of the helper and its children: %r" % mine)


def test_failed_clone_dropped_when_asked():
    with Collector("-a", "-k", "categories=container", "-k", "drop_failed=container") as c:
        pid, kids = run_clone_helper()
        c.wait_event(type="container.unshare", pid=pid, syscall_str="clone3", ret=kids["clone3"])
        check(c.stop() == 0, "collector exit code")
        mine = [e for e in c.find(type="container.unshare") if e["pid"] == pid]
        check(sorted(e["syscall_str"] for e in mine) == ["clone", "clone3"] and all(e["ret"] > 0 for e in mine),
              "with failures dropped: %r" % mine)
        check(stat(exit_stats(c), "kernel_filtered_total", category="container", reason="failed") >= 1,
              "the failed clone3 was not counted")


def test_tmpfs_mount_in_private_namespace():
    src = unique("tmpfs")
    with TempDir() as tmp, Collector("-a", "-k", "categories=container,file") as c:
        d = os.path.realpath(tmp)
        target = os.path.join(d, "mnt")
        os.mkdir(target)
        code = ("import os, subprocess\n"
                "subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=1m', %r, 'mnt'], check=True)\n"
                "os.close(os.open('mnt/inside', os.O_CREAT | os.O_WRONLY, 0o600))\n") % src
        p = subprocess.Popen(["unshare", "--mount", "--propagation", "private", PYTHON, "-c", code], cwd=d)
        check(p.wait(30) == 0, "mount child failed")
        m = c.wait_event(type="container.mount", source=src)
        check(m["fstype"] == "tmpfs" and m["target"] == target and m["ret"] == 0, "mount %r" % m)
        check(m["syscall_str"] == "mount" and m["move_flags"] == 0, "mount(2) %r" % m)
        # The open's path is rebuilt across the new mount, in the namespace
        # where it happened.
        c.wait_event(type="file.open", pid=p.pid, path=target + "/inside")
        check(not os.path.exists(os.path.join(target, "inside")), "the mount leaked out of its namespace")
        c.stop()


# The new mount API from ctypes (the syscall numbers are the same on every
# architecture): a tmpfs made by fsopen/fsconfig/fsmount with nosuid and
# nodev, attached by move_mount at ./mnt, a file created in it, then
# umount2(MNT_DETACH), and an umount2 of a directory that is no mount point
# (EINVAL). Run in a private mount namespace.
NEW_MOUNT_API = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
NR_MOVE_MOUNT, NR_FSOPEN, NR_FSCONFIG, NR_FSMOUNT = 429, 430, 431, 432
FSCONFIG_SET_STRING, FSCONFIG_CMD_CREATE = 1, 6
MOUNT_ATTR_NOSUID, MOUNT_ATTR_NODEV = 0x2, 0x4
MOVE_MOUNT_F_EMPTY_PATH, AT_FDCWD, MNT_DETACH = 0x4, -100, 2

def ok(r, what):
    if r < 0:
        sys.exit("%%s: errno %%d" %% (what, ctypes.get_errno()))
    return r

fs = ok(libc.syscall(NR_FSOPEN, b"tmpfs", 1), "fsopen")
ok(libc.syscall(NR_FSCONFIG, fs, FSCONFIG_SET_STRING, b"source", %(source)r.encode(), 0), "fsconfig source")
ok(libc.syscall(NR_FSCONFIG, fs, FSCONFIG_SET_STRING, b"size", b"1m", 0), "fsconfig size")
ok(libc.syscall(NR_FSCONFIG, fs, FSCONFIG_CMD_CREATE, None, None, 0), "fsconfig create")
mfd = ok(libc.syscall(NR_FSMOUNT, fs, 1, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV), "fsmount")
ok(libc.syscall(NR_MOVE_MOUNT, mfd, b"", AT_FDCWD, b"mnt", MOVE_MOUNT_F_EMPTY_PATH), "move_mount")
os.close(os.open("mnt/inside", os.O_CREAT | os.O_WRONLY, 0o600))
ok(libc.umount2(b"mnt", MNT_DETACH), "umount2")
if libc.umount2(b"plain", 0) != -1 or ctypes.get_errno() != 22:
    sys.exit("umount2 of a plain directory did not fail with EINVAL")
"""


def test_new_mount_api_and_umount():
    src = unique("newapi")
    with TempDir() as tmp, Collector("-a", "-k", "categories=container,file") as c:
        d = os.path.realpath(tmp)
        target = os.path.join(d, "mnt")
        os.mkdir(target)
        os.mkdir(os.path.join(d, "plain"))
        p = subprocess.Popen(["unshare", "--mount", "--propagation", "private", PYTHON, "-c",
                              NEW_MOUNT_API % {"source": src}], cwd=d)
        check(p.wait(30) == 0, "new mount API child failed")
        m = c.wait_event(type="container.mount", pid=p.pid, syscall_str="move_mount")
        check(m["target"] == target and m["source"] == src and m["fstype"] == "tmpfs" and m["ret"] == 0,
              "move_mount %r" % m)
        check(m["move_flags_str"] == "MOVE_MOUNT_F_EMPTY_PATH", "move_mount flags %r" % m)
        check(set(m["flags_str"].split("|")) >= {"MS_NOSUID", "MS_NODEV"} and "MS_NOEXEC" not in m["flags_str"],
              "the mount's attributes as MS_* %r" % m)
        c.wait_event(type="file.open", pid=p.pid, path=target + "/inside")
        um = c.wait_event(type="container.umount", pid=p.pid, target=target)
        check(um["flags_str"] == "MNT_DETACH" and um["ret"] == 0, "umount2 %r" % um)
        bad = c.wait_event(type="container.umount", pid=p.pid, target=os.path.join(d, "plain"))
        check(bad["ret_str"] == "EINVAL" and bad["flags"] == 0, "failed umount2 %r" % bad)
        check(not os.path.exists(os.path.join(target, "inside")), "the mount leaked out of its namespace")
        check(c.stop() == 0, "collector exit code")
        # unshare(1) itself reports its unshare and the mount(2) that makes
        # "/" private; the helper, one move_mount and two umounts.
        mine = sorted((e["type"], e.get("syscall_str", "")) for e in c.events
                      if e["pid"] == p.pid and e["type"] in ("container.mount", "container.umount"))
        check(mine == [("container.mount", "mount"), ("container.mount", "move_mount"),
                       ("container.umount", ""), ("container.umount", "")],
              "mount events of the child: %r" % mine)


def wait_comm(pid, comm, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open("/proc/%d/comm" % pid) as f:
            if f.read().strip() == comm:
                return
        time.sleep(0.01)
    check(False, "process %d never became %r" % (pid, comm))


def check_cgroup(root, hierarchy_v2):
    name = unique("tapio-cg")
    path = os.path.join(root, name)
    with Collector("-a", "-k", "categories=container") as c:
        sleeper = subprocess.Popen(["sleep", "30"])
        try:
            # Popen returns once the exec closed its pipe, which the kernel
            # does before it renames the task: wait for the new name, the
            # attach below must see "sleep".
            wait_comm(sleeper.pid, "sleep")
            os.mkdir(path)
            ino = os.stat(path).st_ino  # a cgroup's id is its directory's inode
            with open(os.path.join(path, "cgroup.procs"), "w") as f:
                f.write(str(sleeper.pid))
            with open(os.path.join(root, "cgroup.procs"), "w") as f:
                f.write(str(sleeper.pid))
        finally:
            sleeper.kill()
            sleeper.wait()
            for _ in range(50):
                try:
                    os.rmdir(path)
                    break
                except OSError:
                    time.sleep(0.1)
        mk = c.wait_event(type="container.cgroup", op_str="mkdir", path="/" + name)
        check(mk["pid"] == os.getpid() and mk["level"] == 1, "mkdir %r" % mk)
        check((mk["hierarchy_id"] == 0) == hierarchy_v2, "hierarchy id %r" % mk["hierarchy_id"])
        check(mk["cgroup"] == ino, "cgroup id %r, want %r" % (mk["cgroup"], ino))
        at = c.wait_event(type="container.cgroup", op_str="attach", path="/" + name)
        check(at["target_pid"] == sleeper.pid and at["target_comm"] == "sleep" and at["cgroup"] == mk["cgroup"],
              "attach %r" % at)
        c.wait_event(type="container.cgroup", op_str="rmdir", path="/" + name, cgroup=mk["cgroup"])
        c.stop()


def test_cgroup_v2():
    root = cgroup_mount("cgroup2")
    check(root is not None, "no cgroup2 hierarchy mounted")
    check_cgroup(root, True)


def test_cgroup_v1_memory():
    root = cgroup_mount("cgroup", "memory")
    if root is None:
        print("no v1 memory hierarchy here: only v2 is checked")
        return
    check_cgroup(root, False)


if __name__ == "__main__":
    require_root()
    run_tests([test_unshare_and_setns, test_clone_into_new_namespaces, test_failed_clone_dropped_when_asked,
               test_tmpfs_mount_in_private_namespace, test_new_mount_api_and_umount, test_cgroup_v2,
               test_cgroup_v1_memory])
