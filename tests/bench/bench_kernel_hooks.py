#!/usr/bin/python3
"""Cost of the kernel hooks on the traced process.

A C load generator (tests/bench/loadgen.c) runs one syscall pattern in a
loop and reports ns per iteration; each pattern meets one hook (getppid
meets none). It runs untraced, under `tapio-collector -o none -a
--raw-dir off` (every category, default settings), and, as anchors, under
opensnoop and bpftrace (open) and execsnoop (fork+exec+exit). The load
generator is pinned to one CPU and every tracer to another, so "added" is
what the hooks cost the traced process, not the consumer competing for its
CPU. While tapio runs, BPF run-time statistics are on (BPF_ENABLE_STATS,
held by a descriptor: off again when it closes) and each mode also reports
the ns per run of the programs it triggered, from bpftool.

Figures are medians of REPS runs; untraced runs happen before and after the
traced ones so drift on this shared machine shows. Compare ratios within a
run.

  tests/bench/run.sh build bench_kernel_hooks       (REPS=5 by default)

BENCH_MODES=kill,pidfd (a comma-separated list) runs only those modes, and
the anchors only for them; NO_ANCHORS=1 runs no anchor. TAPIO_ARGS="-p
security" runs tapio with those arguments instead of "-a --raw-dir off"
(always -o none; raw storage then goes to a fresh directory, removed after).
"""
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import benchlib

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("TAPIO_BUILD_DIR", os.path.join(HERE, "../../build"))
BIN = os.path.join(BUILD, "tapio-collector")
LOADGEN = os.path.join(BUILD, "bench", "loadgen")
REPS = int(os.environ.get("REPS", "5"))
LOAD_CPU, TRACER_CPU = "0", "1"

# mode, iterations, hook(s) it meets, runs in its own network namespace
MODES = [
    ("getppid", 200000, "none (syscall not traced)", False),
    ("open", 50000, "file.open (openat exit; +close)", False),
    ("chmod", 50000, "file.chmod (chmod exit)", False),
    ("rename", 10000, "file.rename x2 (rename exit)", False),
    ("mkdir", 300, "file.mkdir + file.unlink (rmdir)", False),
    ("connect", 50000, "network.connect (UDP connect exit)", False),
    ("dns", 50000, "network.dns (sendto exit, query parsed)", True),
    ("udp", 50000, "sendto exit, not port 53 (early out)", True),
    ("tcp", 2000, "connect+accept+8 state changes+2 closes", True),
    ("setuid", 50000, "security.setuid (enter+exit)", False),
    ("kill", 100000, "security.kill (kill exit)", False),
    ("pidfd", 100000, "security.kill (pidfd_send_signal exit, pidfd resolved)", False),
    ("memfd", 20000, "security.memfd_create (+close)", False),
    ("mmap", 50000, "mmap exit, not exec (early out; +munmap)", False),
    ("mmap_rwx", 20000, "memory.mmap_exec (mmap exit; +munmap)", False),
    ("mprotect", 20000, "memory.mmap_exec via bpf_find_vma (+1 early out)", False),
    ("fault", 5000, "16 user page faults (perf sampled 1/10000)", False),
    ("fork", 2000, "process fork+exit; clone exit x2, no CLONE_NEW* (early out)", False),
    ("thread", 20000, "a thread created and joined: clone3 exit x2 (early out)", False),
    ("dup", 100000, "dup2+close, not onto 0-2 (early out)", False),
    ("dup_stdio", 50000, "network.stdio_socket (dup2 of a socket onto 0)", False),
    ("fcntl", 100000, "fcntl F_GETFL, not F_DUPFD (early out)", False),
    ("prctl", 50000, "process.rename (prctl PR_SET_NAME)", False),
    ("vmread", 50000, "security.process_vm (process_vm_readv)", False),
    ("exec", 300, "process fork+exec+exit (+file opens of the exec)", False),
]
if os.environ.get("TAPIO_ARGS"):
    RAW_DIR = tempfile.mkdtemp(prefix="tapio-bench-raw-")
    TAPIO = [BIN, "-o", "none", "--raw-dir", RAW_DIR] + shlex.split(os.environ["TAPIO_ARGS"])
else:
    RAW_DIR = None
    TAPIO = [BIN, "-o", "none", "-a", "--raw-dir", "off"]
if os.environ.get("BENCH_MODES"):
    _only = os.environ["BENCH_MODES"].split(",")
    MODES = [m for m in MODES if m[0] in _only]


def run_mode(mode, iters, netns):
    cmd = ["taskset", "-c", LOAD_CPU, LOADGEN, mode, str(iters)]
    if netns:
        cmd = ["unshare", "--net"] + cmd
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.split()
    return float(out[1])


class Tracer:
    """A tracer started in the background, ready when a text shows up."""

    def __init__(self, cmd, ready, stream="stderr"):
        self.proc = subprocess.Popen(["taskset", "-c", TRACER_CPU, "stdbuf", "-oL", "-eL"] + cmd,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        ev = threading.Event()
        self.lines = []

        def read(f):
            for line in f:
                if len(self.lines) < 200:
                    self.lines.append(line)
                if ready in line:
                    ev.set()
        for f in (self.proc.stdout, self.proc.stderr):
            threading.Thread(target=read, args=(f,), daemon=True).start()
        if not ev.wait(60):
            self.proc.kill()
            raise RuntimeError("%s did not start: %s" % (cmd[0], "".join(self.lines[-5:])))
        time.sleep(0.5)

    def stop(self):
        self.proc.send_signal(2)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def measure(modes, pid=None, hooks=None):
    """Median ns per iteration of each mode; with pid, also the BPF run time
    of that process's programs during each mode, into hooks[mode]."""
    res = {m[0]: [] for m in modes}
    for _ in range(REPS):
        for mode, iters, _, netns in modes:
            before = benchlib.prog_stats(pid) if pid else None
            res[mode].append(run_mode(mode, iters, netns))
            if pid:
                after = benchlib.prog_stats(pid)
                acc = hooks.setdefault(mode, {})
                for name, (t, n) in after.items():
                    t0, n0 = before.get(name, (0, 0))
                    at, an = acc.get(name, (0, 0))
                    acc[name] = (at + t - t0, an + n - n0)
    return {m: statistics.median(v) for m, v in res.items()}


def hook_summary(mode, iters, runs):
    """The programs a mode ran at least once per iteration, with ns per run."""
    total = REPS * iters
    busy = sorted(((n, t) for n, t in runs.items() if t[1] >= total), key=lambda x: -x[1][1])
    return ", ".join("%s %.0f ns x%.1f" % (n, t[0] / t[1], t[1] / total) for n, t in busy) or "-"


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root")
        return 0
    benchlib.build_loadgen()
    print("loadgen modes x %d runs each; medians in ns per iteration" % REPS)
    base1 = measure(MODES)
    stats_fd = benchlib.enable_bpf_stats()
    print("tapio: %s" % " ".join(TAPIO[1:]))
    t = Tracer(TAPIO, "ready:")
    hooks = {}
    traced = measure(MODES, t.proc.pid if stats_fd is not None else None, hooks)
    t.stop()
    if stats_fd is not None:
        os.close(stats_fd)
    base2 = measure(MODES)

    print("\n%-9s %9s %9s %9s %8s %6s  %s" % ("mode", "untraced", "untraced2", "tapio", "added", "ratio",
                                            "what it meets"))
    for mode, _, hook, _ in MODES:
        base = min(base1[mode], base2[mode])
        print("%-9s %9.0f %9.0f %9.0f %8.0f %5.2fx  %s" % (mode, base1[mode], base2[mode], traced[mode],
                                                      traced[mode] - base, traced[mode] / base, hook))
    if hooks:
        print("\nBPF run time per program run (bpf_stats), programs run at least once per iteration:")
        for mode, iters, _, _ in MODES:
            print("  %-9s %s" % (mode, hook_summary(mode, iters, hooks.get(mode, {}))))

    if os.environ.get("NO_ANCHORS"):
        return 0
    anchors = [
        ("opensnoop", ["opensnoop"], "PATH", ["open"]),
        ("bpftrace printf", ["bpftrace", "-e",
                             'tracepoint:syscalls:sys_exit_openat { printf("%d %s %d\\n", pid, comm, args->ret); }'],
         "Attaching", ["open"]),
        ("bpftrace count", ["bpftrace", "-e", 'tracepoint:syscalls:sys_exit_openat { @[comm] = count(); }'],
         "Attaching", ["open"]),
        ("execsnoop", ["execsnoop"], "PCOMM", ["exec"]),
    ]
    print("\nanchors (same loadgen, medians):")
    for name, cmd, ready, modes in anchors:
        sel = [m for m in MODES if m[0] in modes]
        if not sel:
            continue
        untraced = measure(sel)
        tr = Tracer(cmd, ready)
        with_tool = measure(sel)
        tr.stop()
        with_tapio_tr = Tracer(TAPIO, "ready:")
        with_tapio = measure(sel)
        with_tapio_tr.stop()
        for mode in modes:
            print("  %-16s %-5s untraced %8.0f  %-16s %8.0f (%5.2fx)  tapio %8.0f (%5.2fx)" % (
                name, mode, untraced[mode], name, with_tool[mode], with_tool[mode] / untraced[mode],
                with_tapio[mode], with_tapio[mode] / untraced[mode]))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        if RAW_DIR:
            shutil.rmtree(RAW_DIR, ignore_errors=True)
