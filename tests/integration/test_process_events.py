"""process.exec / fork / exit reach -o json with the right pids, filename,
argv and exit code, for a uniquely named program the test runs."""
import os
import shutil
import signal
import subprocess
import time

from tapio import Collector, TempDir, check, require_root, run_tests, unique


def spawn_unique(tmp, args, name=None):
    """Run a copy of /bin/sh under a unique name, so its exec is ours alone."""
    name = name or unique("tp")[:15]
    path = os.path.join(tmp, name)
    shutil.copy("/bin/sh", path)
    os.chmod(path, 0o755)
    p = subprocess.Popen([path] + args)
    p.wait()
    return path, name, p


# Loading every family costs seconds at start and stop; the tests that are
# about the process family load only it (test_exec_fork_exit keeps the
# default load: the process family beside all the others).
PROCESS_ONLY = ("-k", "categories=process")


def check_lifecycle(*args, binary=None, env=None):
    with TempDir() as tmp, Collector("-a", *args, binary=binary, env=env) as c:
        marker = unique("arg")
        script = "sleep 0.3; exit 3"
        t0 = time.monotonic()
        path, name, p = spawn_unique(tmp, ["-c", script, marker])
        lived = time.monotonic() - t0
        check(p.returncode == 3, "child exit code %s" % p.returncode)

        ex = c.wait_event(type="process.exec", pid=p.pid, filename=path)
        check(ex["argv"] == [path, "-c", script, marker], "argv %r" % ex["argv"])
        check(ex["ret"] == 0, "exec ret %r" % ex["ret"])
        check(ex["comm"] == name, "comm after exec %r, want %r" % (ex["comm"], name))
        check(ex["ppid"] == os.getpid(), "exec ppid %r, want %r" % (ex["ppid"], os.getpid()))
        for key in ("ts", "cpu", "tid", "uid", "gid", "cgroup_id"):
            check(key in ex, "exec event lacks %s" % key)

        # The fork's header is the child's, read from the child task (not
        # the current one): its ids, its cgroup, the name it inherited.
        fk = c.wait_event(type="process.fork", pid=p.pid)
        check(fk["ppid"] == os.getpid() and fk["parent_pid"] == os.getpid(),
              "fork parent %r/%r, want %r" % (fk["ppid"], fk["parent_pid"], os.getpid()))
        with open("/proc/self/comm") as f:
            my_comm = f.read().strip()
        for key, want in (("tid", p.pid), ("uid", os.getuid()), ("gid", os.getgid()),
                          ("comm", my_comm), ("cgroup_id", ex["cgroup_id"])):
            check(fk.get(key) == want, "fork %s %r, want %r" % (key, fk.get(key), want))

        xt = c.wait_event(type="process.exit", pid=p.pid)
        check(xt["exit_code"] == 3, "exit code %r" % xt["exit_code"])
        check(xt["signal"] == 0, "signal %r" % xt["signal"])
        check(xt["comm"] == name, "exit comm %r" % xt["comm"])
        # From the fork to the exit: at least the sleep, at most what the
        # test saw around it.
        dur = xt["duration_ns"] / 1e9
        check(0.3 <= dur <= lived + 0.05, "exit duration %.3f s, lived %.3f s" % (dur, lived))

        # Order of one process's life: fork, then exec, then exit.
        check(fk["ts"] <= ex["ts"] <= xt["ts"], "timestamps out of order")
        rc = c.stop()
        check(rc == 0, "collector exit code %r" % rc)


def test_exec_fork_exit():
    check_lifecycle()


def test_exec_fork_exit_under_asan():
    check_lifecycle(*PROCESS_ONLY, binary=os.environ.get("TAPIO_BIN_ASAN"))


def test_exec_fork_exit_without_typed_loads():
    """The same fields from the programs built for kernels without typed
    casts (probe reads: bpf/common.bpf.h, TAPIO_TEST_NO_TYPED_BPF)."""
    check_lifecycle(*PROCESS_ONLY, env={"TAPIO_TEST_NO_TYPED_BPF": "1"})


def test_failed_exec_and_signal_exit():
    with TempDir() as tmp, Collector("-a", *PROCESS_ONLY) as c:
        missing = os.path.join(tmp, unique("missing"))
        # A child that tries to exec a missing file, then dies by SIGKILL.
        code = ("import os, signal\n"
                "try:\n    os.execv(%r, [%r, 'x y'])\nexcept OSError:\n    pass\n"
                "os.kill(os.getpid(), signal.SIGKILL)\n") % (missing, missing)
        p = subprocess.Popen(["/usr/bin/python3", "-c", code])
        p.wait()
        ex = c.wait_event(type="process.exec", pid=p.pid, filename=missing)
        check(ex["ret"] == -2, "failed exec ret %r, want -ENOENT" % ex["ret"])
        check(ex["argv"] == [missing, "x y"], "argv of failed exec %r" % ex["argv"])
        xt = c.wait_event(type="process.exit", pid=p.pid)
        check(xt["signal"] == signal.SIGKILL, "exit signal %r" % xt["signal"])
        check(xt.get("signal_str") == "SIGKILL", "signal name %r" % xt.get("signal_str"))
        c.stop()


def test_threads_are_not_forks():
    with Collector("-a", *PROCESS_ONLY) as c:
        code = ("import threading\n"
                "ts=[threading.Thread(target=lambda: None) for _ in range(5)]\n"
                "[t.start() for t in ts]; [t.join() for t in ts]\n")
        p = subprocess.Popen(["/usr/bin/python3", "-c", code])
        p.wait()
        c.wait_event(type="process.exit", pid=p.pid)
        forks = [e for e in c.find(type="process.fork") if e["ppid"] == p.pid]
        check(not forks, "threads reported as forks: %r" % forks)
        exits = c.find(type="process.exit", pid=p.pid)
        check(len(exits) == 1, "one exit per process, got %d" % len(exits))
        c.stop()


def test_duration_stops_by_itself():
    c = Collector("-a", "--duration", "2s", *PROCESS_ONLY)
    try:
        rc = c.proc.wait(20)
    finally:
        if c.proc.poll() is None:
            c.proc.kill()
    check(rc == 0, "exit code after --duration %r" % rc)
    check(any("stats (exit)" in l for l in c.log), "no exit stats line")
    check(any("summary (exit" in l for l in c.log), "no exit summary line")


def test_text_output():
    with TempDir() as tmp, Collector("-a", *PROCESS_ONLY, output="text") as c:
        path, name, p = spawn_unique(tmp, ["-c", "exit 0", "hello"])
        line = c.wait_until(lambda: next((l for l in c.lines if "process.exec" in l and name in l), None),
                            what="text exec line")
        check("pid=%d" % p.pid in line, "pid missing in %r" % line)
        check("argv=[%s -c \"exit 0\" hello]" % path in line, "argv missing in %r" % line)
        check("\x1b" not in line, "colour codes on a pipe: %r" % line)
        c.bad_lines = []  # text is not JSON
        c.stop()


if __name__ == "__main__":
    require_root()
    run_tests([test_exec_fork_exit, test_exec_fork_exit_under_asan,
               test_exec_fork_exit_without_typed_loads, test_failed_exec_and_signal_exit,
               test_threads_are_not_forks, test_duration_stops_by_itself, test_text_output])
