"""Helpers for tests that put processes into cgroups whose paths follow a
container runtime's layout, in the unified (v2) hierarchy and in one v1
hierarchy, and remove them afterwards.

Paths are made unique by the caller (a random container id or a unique
prefix), so tests running at the same time never share a cgroup.
"""
import os
import secrets
import shutil
import subprocess
import time
import uuid

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


def fake_kubelet(root, ns, pod, uid, ctr, cid):
    """The kubelet's files for one container: the pod log directory and the
    container log link into it."""
    pods = os.path.join(root, "pods")
    ctrs = os.path.join(root, "containers")
    d = os.path.join(pods, "%s_%s_%s" % (ns, pod, uid), ctr)
    os.makedirs(d)
    open(os.path.join(d, "0.log"), "w").close()
    os.makedirs(ctrs, exist_ok=True)
    os.symlink(os.path.join(d, "0.log"), os.path.join(ctrs, "%s_%s_%s-%s.log" % (pod, ns, ctr, cid)))


class FakePod:
    """A Kubernetes pod as a node shows it, made under tmp: one containerd
    container's cgroup (cgroupfs driver, v1 memory hierarchy), the
    kubelet's log files naming pod, namespace and container, and
    containerd's task directory. env points a collector at those files;
    container and k8s are what its enrichment must report."""

    def __init__(self, tmp, name):
        self.cid, self.uid = secrets.token_hex(32), str(uuid.uuid4())
        self.ns, self.pod = name + "-ns", name
        kube = os.path.join(tmp, "kubelet")
        fake_kubelet(kube, self.ns, self.pod, self.uid, "app", self.cid)
        state = os.path.join(tmp, "containerd")
        os.makedirs(os.path.join(state, "io.containerd.runtime.v2.task", "k8s.io", self.cid))
        os.makedirs(os.path.join(tmp, "docker"), exist_ok=True)
        self.env = {"TAPIO_K8S_POD_LOGS_DIR": os.path.join(kube, "pods"),
                    "TAPIO_K8S_CONTAINER_LOGS_DIR": os.path.join(kube, "containers"),
                    "TAPIO_CONTAINERD_STATE_DIR": state,
                    "TAPIO_DOCKER_DATA_DIR": os.path.join(tmp, "docker")}
        self.container = {"id": self.cid, "runtime": "containerd"}
        self.k8s = {"pod": self.pod, "namespace": self.ns, "pod_uid": self.uid,
                    "container": "app", "qos": "Burstable"}
        self.cgroup = Cgroup("kubepods/burstable/pod%s/%s" % (self.uid, self.cid), ("v1",))
        self.tmp = tmp

    def __enter__(self):
        self.cgroup.__enter__()
        return self

    def __exit__(self, *exc):
        self.cgroup.__exit__(*exc)

    def spawn(self, marker):
        """Run, inside the pod, a uniquely named shell with marker in its
        argv that lives 0.5 s (long enough for /proc to tell its cgroup);
        returns (pid, path of the shell)."""
        path = os.path.join(self.tmp, ("p" + secrets.token_hex(7))[:15])
        shutil.copy("/bin/sh", path)
        os.chmod(path, 0o755)
        p = self.cgroup.run([path, "-c", "/bin/sleep 0.5", marker])
        return p.pid, path
