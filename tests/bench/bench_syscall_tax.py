#!/usr/bin/python3
"""What the agent costs every syscall of every process, traced or not.

A loadgen loop (getppid: a syscall no program hooks; open: openat + close,
one event each) runs N times untraced, then N times under
`tapio-collector -p security -o none` (raw storage off, pinned to the other
CPU), for this build and, with B_COLLECTOR, another binary, alternated ALT
times. Each cell reports the fastest and the median run: the fastest is the
cost with the least of this shared machine's noise in it. "added" is traced
- untraced in the same alternation.

  tests/bench/run.sh build bench_syscall_tax
  B_COLLECTOR=/path/to/other/tapio-collector N=21 ALT=4 tests/bench/run.sh build bench_syscall_tax

MODES=getppid:200000,open:50000 (mode:iterations) and TAPIO_ARGS ("-p
security") change what runs.
"""
import os
import shlex
import sys

from benchlib import BIN, Collector, Table, build, loadgen, log, main, median, require_root

N = int(os.environ.get("N", "15"))
ALT = int(os.environ.get("ALT", "2"))
MODES = [(m.split(":")[0], int(m.split(":")[1]))
         for m in os.environ.get("MODES", "getppid:200000,open:50000").split(",")]
ARGS = shlex.split(os.environ.get("TAPIO_ARGS", "-p security"))
BINS = [("A", BIN)] + ([("B", os.environ["B_COLLECTOR"])] if os.environ.get("B_COLLECTOR") else [])


def runs(mode, iters):
    return [loadgen(mode, iters)[0] for _ in range(N)]


def run():
    require_root()
    build("tapio-collector")
    t = Table("Per-syscall cost: fastest (median) of %d runs, ns per iteration" % N,
              ["alt", "binary", "mode", "untraced", "traced", "added (fastest)", "ratio (medians)"],
              "A = %s%s; traced: `%s`" % (BIN, "; B = " + BINS[1][1] if len(BINS) > 1 else "",
                                          " ".join(ARGS)))
    added = {(b, m): [] for b, _ in BINS for m, _ in MODES}
    for a in range(ALT):
        base = {m: runs(m, i) for m, i in MODES}
        for name, binary in BINS:
            log("alternation %d: %s" % (a + 1, name))
            c = Collector(*ARGS, binary=binary)
            traced = {m: runs(m, i) for m, i in MODES}
            c.stop()
            for m, _ in MODES:
                u, tr = base[m], traced[m]
                added[(name, m)].append(min(tr) - min(u))
                t.add(str(a + 1), name, m, "%.0f (%.0f)" % (min(u), median(u)),
                      "%.0f (%.0f)" % (min(tr), median(tr)), min(tr) - min(u),
                      "%.3f" % (median(tr) / median(u)))
    s = Table("Added ns per iteration, fastest runs: median over the alternations",
              ["binary", "mode", "added"])
    for name, _ in BINS:
        for m, _ in MODES:
            s.add(name, m, median(added[(name, m)]))
    return [t, s]


if __name__ == "__main__":
    sys.exit(main(run))
