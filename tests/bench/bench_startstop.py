#!/usr/bin/python3
"""Benchmark 7: start and stop time with every family.

  start   from exec to the " ready: " log line (programs loaded and
          attached, rules loaded and tested, outputs open)
  stop    from SIGTERM to the process's exit (the BPF programs' own release
          may finish later, in the background)

tapio-collector -p PRESET, raw storage on, -o none; every family. Medians
and worst of ROUNDS runs per preset.

  tests/bench/suite.py build startstop  (ROUNDS=5)
"""
import os
import sys

import benchlib as bl

PRESETS = os.environ.get("PRESETS", "default,security").split(",")


def run():
    bl.require_root()
    bl.build("tapio-collector")
    res = {p: [] for p in PRESETS}
    for rnd in range(bl.ROUNDS):
        for preset in PRESETS:
            c = bl.Collector("-p", preset, raw=True)
            start = c.t_ready - c.t_start
            line = c.wait_for("ready:") or ""
            progs = line.split("ready:")[-1].split(" programs")[0].strip()
            stop = c.stop()
            res[preset].append((start, stop, progs))
            bl.log("round %d %s: start %.2f s (%s programs), stop %.2f s" % (
                rnd + 1, preset, start, progs, stop))
    t = bl.Table("Start and stop, every family", ["preset", "programs", "start median s",
                                                   "start worst s", "stop median s",
                                                   "stop worst s"])
    for p, rs in res.items():
        t.add(p, rs[0][2], bl.fmt(bl.median(r[0] for r in rs), "%.2f"),
              bl.fmt(max(r[0] for r in rs), "%.2f"), bl.fmt(bl.median(r[1] for r in rs), "%.2f"),
              bl.fmt(max(r[1] for r in rs), "%.2f"))
    tgt = bl.Table("Start and stop targets", ["target", "measured", "result"])
    s = bl.median(r[0] for rs in res.values() for r in rs)
    e = bl.median(r[1] for rs in res.values() for r in rs)
    tgt.add("start < 1 s with every family", "%.2f s" % s, bl.target(s < 1, ""))
    tgt.add("stop < 0.5 s with every family", "%.2f s" % e, bl.target(e < 0.5, ""))
    return [t, tgt]


if __name__ == "__main__":
    sys.exit(bl.main(run))
