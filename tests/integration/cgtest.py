"""Helpers for tests that put processes into cgroups whose paths follow a
container runtime's layout, in the unified (v2) hierarchy and in one v1
hierarchy, and remove them afterwards.

Paths are made unique by the caller (a random container id or a unique
prefix), so tests running at the same time never share a cgroup.
"""
import os
import subprocess
import time

V2_ROOT = "/sys/fs/cgroup/unified"
V1_ROOT = "/sys/fs/cgroup/memory"


def v2_root():
    """The unified hierarchy's mount: /sys/fs/cgroup/unified on hybrid
    machines, /sys/fs/cgroup on pure v2 ones."""
    if os.path.exists(os.path.join(V2_ROOT, "cgroup.procs")):
        return V2_ROOT
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        return "/sys/fs/cgroup"
    return None


class Cgroup:
    """A cgroup path created in the chosen hierarchies ("v1", "v2") and
    removed, deepest first, on exit (after the processes in it ended)."""

    def __init__(self, path, hierarchies=("v1", "v2")):
        self.path = path.strip("/")
        self.dirs = []
        self.roots = []
        for h in hierarchies:
            root = v2_root() if h == "v2" else V1_ROOT
            if root is None:
                raise RuntimeError("no %s cgroup hierarchy on this machine" % h)
            self.roots.append(root)

    def __enter__(self):
        for root in self.roots:
            parts = self.path.split("/")
            for i in range(1, len(parts) + 1):
                d = os.path.join(root, *parts[:i])
                if not os.path.isdir(d):
                    os.mkdir(d)
                    self.dirs.append(d)
        return self

    def ids(self):
        """{root: inode of the leaf directory}: the kernfs id the BPF side reports."""
        return {root: os.stat(os.path.join(root, self.path)).st_ino for root in self.roots}

    def id_in(self, root):
        return os.stat(os.path.join(root, self.path)).st_ino

    def run(self, argv, **kw):
        """Run argv inside this cgroup (moved before exec) and wait for it."""
        p = self.popen(argv, **kw)
        p.wait()
        return p

    def popen(self, argv, **kw):
        moves = "; ".join("echo $$ > '%s'" % os.path.join(root, self.path, "cgroup.procs")
                          for root in self.roots)
        return subprocess.Popen(["/bin/sh", "-c", moves + '; exec "$0" "$@"'] + list(argv), **kw)

    def __exit__(self, *exc):
        for d in reversed(self.dirs):
            for _ in range(50):
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)  # a process in it is still exiting
