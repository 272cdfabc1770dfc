#!/usr/bin/python3
"""Benchmark 4: memory.

  RSS per preset   each preset (default, security, high-performance) with
                   every family and raw storage on: resident memory once
                   ready, and after EVENTS records of benchmark 1's node
                   mix (test-only BPF producer, paced to RATE so nothing
                   is dropped); the high-water mark (VmHWM) too
  per process      the default preset after PROCS forks of distinct new
                   processes (the producer's procs mix): resident memory
                   added per process the enrichment tracks
  rules, state     the rules' Lua VM (tapio_rules_memory_bytes, when the
                   collector has it) for each preset's rule sets

RSS is measured on the collector's own process (/proc/PID/status). The
figures are medians of ROUNDS rounds.

  tests/bench/suite.py build memory  (ROUNDS=3, EVENTS=1000000, RATE=200000)
"""
import os
import sys
import time

import benchlib as bl

EVENTS = int(os.environ.get("EVENTS", "1000000"))
RATE = int(os.environ.get("RATE", "200000"))
PROCS = int(os.environ.get("PROCS", "20000"))
PRESETS = os.environ.get("PRESETS", "default,security,high-performance").split(",")


def one_preset(preset):
    c = bl.Collector("-p", preset, raw=True)
    try:
        ready = bl.rss_kb(c.pid)
        p = bl.produce(c.pid, 100, count=EVENTS, rate=RATE)
        bl.wait_idle(c.pid, bl.idle_rate(c.pid, 0.3))
        m = c.metrics()
        return {"ready": ready, "after": bl.rss_kb(c.pid), "hwm": bl.rss_kb(c.pid, "VmHWM"),
                "lua": bl.msum(m, "tapio_rules_memory_bytes") or None,
                "full": p["full"], "ring": bl.msum(m, "tapio_ring_buffer_size_bytes")}
    finally:
        c.stop()


def per_process():
    c = bl.Collector("-p", "default", "-k", "categories=process")
    try:
        m0 = c.metrics()
        r0 = bl.rss_kb(c.pid)
        bl.produce(c.pid, 100, count=PROCS, rate=RATE, mix="procs")
        bl.wait_idle(c.pid, bl.idle_rate(c.pid, 0.3))
        m1 = c.metrics()
        r1 = bl.rss_kb(c.pid)
        tracked = bl.msum(m1, "tapio_enrich_processes") - bl.msum(m0, "tapio_enrich_processes")
        return (r1 - r0) * 1024 / max(tracked, 1), tracked
    finally:
        c.stop()


def run():
    bl.require_root()
    bl.build("tapio-collector", "bench_producer")
    res = {p: [] for p in PRESETS}
    per = []
    for rnd in range(bl.rounds(3)):
        for preset in PRESETS:
            r = one_preset(preset)
            res[preset].append(r)
            bl.log("round %d %s: RSS %d kB ready, %d kB after %d events (HWM %d kB)" % (
                rnd + 1, preset, r["ready"], r["after"], EVENTS, r["hwm"]))
        per.append(per_process())
        bl.log("round %d: %.0f bytes per tracked process (%d processes)" % (rnd + 1, *per[-1]))
    t = bl.Table("Memory: resident set of the collector (every family, raw storage on)",
                 ["preset", "ring", "RSS ready (MB)", "RSS after %dk events (MB)" % (EVENTS // 1000),
                  "peak RSS (MB)", "rules VM (MB)"])
    for preset in PRESETS:
        rs = res[preset]
        lua = bl.median(r["lua"] for r in rs)
        t.add(preset, "%dM" % (bl.median(r["ring"] for r in rs) / (1 << 20)),
              "%.1f" % (bl.median(r["ready"] for r in rs) / 1024),
              "%.1f" % (bl.median(r["after"] for r in rs) / 1024),
              "%.1f" % (bl.median(r["hwm"] for r in rs) / 1024),
              "%.1f" % (lua / (1 << 20)) if lua else "-")
    b = bl.median(x[0] for x in per)
    t2 = bl.Table("Memory per tracked process (default preset)", ["measure", "value"])
    t2.add("resident bytes per tracked process (%d new processes)" % PROCS, "%.0f" % b)
    t3 = bl.Table("Memory target", ["target", "measured", "result"])
    if "default" in res:
        d = bl.median(r["hwm"] for r in res["default"]) / 1024
        t3.add("RSS <= 64 MB, default preset and ring", "%.1f MB peak" % d, bl.target(d <= 64, ""))
    return [t, t2, t3]


if __name__ == "__main__":
    sys.exit(bl.main(run))
