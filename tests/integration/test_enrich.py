"""Enrichment on the real kernel: cgroup ids in the header, process tree,
container and Kubernetes context from cgroups laid out like each runtime's."""
import os
import shutil
import subprocess

from cgtest import V1_ROOT, Cgroup, v2_root
from tapio import Collector, TempDir, check, require_root, run_tests, unique


def copy_true(tmp, name=None):
    """A copy of /bin/true under a unique name, so its exec is ours alone."""
    name = name or unique("tp")[:15]
    path = os.path.join(tmp, name)
    shutil.copy("/bin/true", path)
    os.chmod(path, 0o755)
    return path


def test_cgroup_ids_in_header():
    """cgroup_id is the unified cgroup's inode, cgroup_v1_id the tracked v1
    (memory) cgroup's inode."""
    with TempDir() as tmp, Collector("-a") as c, Cgroup(unique("tapio-cg")) as cg:
        exe = copy_true(tmp)
        p = cg.run([exe])
        ex = c.wait_event(type="process.exec", pid=p.pid, filename=exe)
        check(ex["cgroup_id"] == cg.id_in(v2_root()),
              "cgroup_id %r, want %r" % (ex["cgroup_id"], cg.id_in(v2_root())))
        check(ex.get("cgroup_v1_id") == cg.id_in(V1_ROOT),
              "cgroup_v1_id %r, want %r" % (ex.get("cgroup_v1_id"), cg.id_in(V1_ROOT)))
        c.stop()


def test_no_v1_tracking():
    """TAPIO_CGROUP_V1=none: the header reports no v1 cgroup."""
    with TempDir() as tmp, Collector("-a", env={"TAPIO_CGROUP_V1": "none"}) as c:
        exe = copy_true(tmp)
        p = subprocess.Popen([exe])
        p.wait()
        ex = c.wait_event(type="process.exec", pid=p.pid, filename=exe)
        check("cgroup_v1_id" not in ex, "cgroup_v1_id present: %r" % ex.get("cgroup_v1_id"))
        c.stop()


if __name__ == "__main__":
    require_root()
    run_tests([test_cgroup_ids_in_header, test_no_v1_tracking])
