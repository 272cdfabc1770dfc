#!/usr/bin/python3
"""One BPF program of two builds, timed side by side in the same runs.

Two collectors run at once (this build, A, and B_COLLECTOR, B), each with
its own programs attached to the same hook; a loadgen loop pinned to CPU 0
meets the hook ITERS times, and bpf_stats gives each program's ns per run.
Both programs run on every event, under the same minute of this shared
machine: the sitting-to-sitting swings that make two separate runs differ
by 100-300 ns cancel out. The program that runs second finds the kernel
objects the first one loaded in the cache (~100-150 ns cheaper here), so
the order alternates, and the difference is estimated from both orders:

  first - second = P + (A - B)   when A started first (its program runs first)
  first - second = P - (A - B)   when B started first
  A - B = (median of the first - median of the second) / 2

  B_COLLECTOR=/path/to/other/tapio-collector tests/bench/run.sh build bench_prog_ab

ALT (8) alternations of each order; PROG (tp_exit_openat), MODE (open) and
ITERS (300000) choose the program and the loop; TAPIO_ARGS ("-p security",
raw storage on in a fresh directory) how both collectors run. Without
B_COLLECTOR, B is this build too: the estimate should then be ~0.
"""
import os
import shlex

import benchlib
from benchlib import BIN, Collector, Table, build, build_loadgen, loadgen, log, median

ALT = int(os.environ.get("ALT", "8"))
PROG = os.environ.get("PROG", "tp_exit_openat")
MODE = os.environ.get("MODE", "open")
ITERS = int(os.environ.get("ITERS", "300000"))
ARGS = shlex.split(os.environ.get("TAPIO_ARGS", "-p security"))
B = os.environ.get("B_COLLECTOR") or BIN


def ns_per_run(c):
    stats = benchlib.prog_stats(c.pid)
    if PROG not in stats or not stats[PROG][1]:
        raise RuntimeError("%s: no program %s ran (programs: %s)" % (c.cmd[0], PROG,
                                                                   ", ".join(sorted(stats)) or "none"))
    t, n = stats[PROG]
    return t / n


def one(order):
    """ns per run of A's and B's program, with order[0] started (and run) first."""
    cs = []
    try:
        for name in order:
            cs.append(Collector(*ARGS, raw=True, binary=BIN if name == "A" else B))
        fd = benchlib.enable_bpf_stats()
        if fd is None:
            raise RuntimeError("BPF_ENABLE_STATS refused (needs root, Linux 5.8+)")
        try:
            loadgen(MODE, ITERS)
            ns = {name: ns_per_run(c) for name, c in zip(order, cs)}
        finally:
            os.close(fd)
    finally:
        for c in cs:
            c.stop()
    return ns


def run():
    benchlib.require_root()
    if not os.access(B, os.X_OK):
        raise SystemExit("B_COLLECTOR=%s: not an executable file (give another build's "
                         "tapio-collector)" % B)
    build("tapio-collector")
    build_loadgen()
    t = Table("%s, ns per run: two builds side by side (%s x %d)" % (PROG, MODE, ITERS),
              ["alternation", "first", "A", "B", "first - second"])
    diffs = {"A": [], "B": []}
    for i in range(ALT):
        for order in (("A", "B"), ("B", "A")):
            log("  alternation %d: %s first" % (i + 1, order[0]))
            ns = one(order)
            d = ns[order[0]] - ns[order[1]]
            diffs[order[0]].append(d)
            t.add(str(i + 1), order[0], ns["A"], ns["B"], d)
    est = (median(diffs["A"]) - median(diffs["B"])) / 2
    mean = (sum(diffs["A"]) / len(diffs["A"]) - sum(diffs["B"]) / len(diffs["B"])) / 2
    s = Table("A - B, ns per run of %s" % PROG, ["estimate", "from medians", "from means"],
              note="A = %s; B = %s; both `%s`, raw storage on" % (BIN, B, " ".join(ARGS)))
    s.add("A - B", "%+.0f" % est, "%+.0f" % mean)
    return [t, s]


if __name__ == "__main__":
    raise SystemExit(benchlib.main(run))
