"""Completeness against peers we did not write: over a burst of N opens
(N execs) from one uniquely named process, the agent reports exactly N,
as libbpf-tools' opensnoop (execsnoop) does for the same burst."""
import os
import subprocess
import threading
import time

from kernel_helpers import run_py, unique_comm
from tapio import Collector, TempDir, TestFailure, check, require_root, run_tests


class Peer:
    """A libbpf-tools tracer with line-buffered output, read as it comes."""

    def __init__(self, args, ready_text):
        self.lines = []
        self.proc = subprocess.Popen(["stdbuf", "-oL"] + args, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self._ready = threading.Event()
        self._ready_text = ready_text
        self._t = threading.Thread(target=self._read, daemon=True)
        self._t.start()
        if not self._ready.wait(30):
            self.proc.kill()
            raise TestFailure("%s did not start: %r" % (args[0], self.lines[:5]))

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            if self._ready_text in line:
                self._ready.set()

    def stop(self):
        self.proc.send_signal(2)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._t.join(10)
        return self.lines


def wait_count(c, pred, n, what, timeout=30):
    c.wait_until(lambda: sum(1 for e in c.events if pred(e)) >= n, timeout, what)
    time.sleep(0.5)  # anything extra would show up now
    return sum(1 for e in c.events if pred(e))


def test_open_burst_matches_opensnoop():
    n = 2000
    with TempDir() as tmp:
        d = os.path.realpath(tmp)
        exe, comm = unique_comm(d, "os")
        with Collector("-a", "-k", "categories=file") as c:
            peer = Peer(["opensnoop", "-n", comm], "PATH")
            p = run_py("import os\nfor i in range(%d):\n"
                       "    os.close(os.open(%r + '/f%%d' %% i, os.O_CREAT | os.O_WRONLY, 0o600))\n"
                       % (n, d), exe=exe)
            prefix = d + "/f"
            ours = wait_count(c, lambda e: e["type"] == "file.open" and e["pid"] == p.pid
                              and e["path"].startswith(prefix), n, "%d opens" % n)
            time.sleep(1)
            theirs = sum(1 for l in peer.stop() if prefix in l)
            c.stop()
        check(theirs == n, "opensnoop saw %d of the %d opens" % (theirs, n))
        check(ours == n, "tapio-collector reported %d opens, opensnoop %d, the burst was %d" % (ours, theirs, n))
        paths = {e["path"] for e in c.events if e["type"] == "file.open" and e["pid"] == p.pid}
        check(all(prefix + str(i) in paths for i in range(n)), "some paths are missing or wrong")


def test_exec_burst_matches_execsnoop():
    n = 300
    with TempDir() as tmp:
        d = os.path.realpath(tmp)
        name = os.path.basename(unique_comm(d, "ex")[0])
        target = os.path.join(d, name + "t")[:len(d) + 1 + 15]
        os.symlink("/bin/true", target)
        tcomm = os.path.basename(target)
        with Collector("-a", "-k", "categories=process") as c:
            peer = Peer(["execsnoop", "-n", tcomm], "PCOMM")
            p = run_py("import os\nfor i in range(%d):\n"
                       "    pid = os.posix_spawn(%r, [%r, str(i)], {})\n"
                       "    os.waitpid(pid, 0)\n" % (n, target, target))
            ours = wait_count(c, lambda e: e["type"] == "process.exec" and e["ppid"] == p.pid
                              and e["filename"] == target, n, "%d execs" % n)
            time.sleep(1)
            theirs = sum(1 for l in peer.stop() if l.startswith(tcomm + " ") or (" " + target + " ") in l)
            c.stop()
        check(theirs == n, "execsnoop saw %d of the %d execs" % (theirs, n))
        check(ours == n, "tapio-collector reported %d execs, execsnoop %d, the burst was %d" % (ours, theirs, n))
        argv1 = sorted(int(e["argv"][1]) for e in c.events
                       if e["type"] == "process.exec" and e["ppid"] == p.pid and e["filename"] == target)
        check(argv1 == list(range(n)), "exec arguments are missing or wrong")


if __name__ == "__main__":
    require_root()
    run_tests([test_open_burst_matches_opensnoop, test_exec_burst_matches_execsnoop])
