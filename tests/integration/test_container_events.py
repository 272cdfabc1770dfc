"""container.* events: unshare and setns (unshare/nsenter from util-linux),
a tmpfs mount in a private mount namespace (and a file opened through it,
whose path crosses the mount), cgroups created, joined and removed on the
v2 hierarchy and on a v1 one."""
import os
import subprocess
import time

from kernel_helpers import PYTHON
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
        c.wait_event(type="container.unshare", pid=holder.pid, flags_str="CLONE_NEWNET", ret=0)
        sn = c.wait_event(type="container.setns", pid=n.pid)
        check(sn["ns_ino"] == ino and sn["nstype_str"] == "CLONE_NEWNET" and sn["ret"] == 0, "setns %r" % sn)
        c.stop()


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
        # The open's path is rebuilt across the new mount, in the namespace
        # where it happened.
        c.wait_event(type="file.open", pid=p.pid, path=target + "/inside")
        check(not os.path.exists(os.path.join(target, "inside")), "the mount leaked out of its namespace")
        c.stop()


def check_cgroup(root, hierarchy_v2):
    name = unique("tapio-cg")
    path = os.path.join(root, name)
    with Collector("-a", "-k", "categories=container") as c:
        sleeper = subprocess.Popen(["sleep", "30"])
        try:
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
    run_tests([test_unshare_and_setns, test_tmpfs_mount_in_private_namespace, test_cgroup_v2,
               test_cgroup_v1_memory])
