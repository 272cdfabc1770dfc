#!/usr/bin/python3
"""Benchmark 1: pipeline throughput, level by level.

A test-only BPF producer (producer.bpf.c, driven by producer.c on CPU 0)
floods the consumer's own ring buffer with K records per BPF run (K = 1,
10, 100) for SECONDS, from a fixed mix of 100 records (producer.c
make_node_mix: 71 file reads, 8 opens for writing, unlinks, renames,
connects, execs, fork/exit pairs, 1 read of /etc/shadow). The consumer,
pinned to CPU 1, is in turn:

  L0    bench_bare_consumer --ring-only: libbpf's ring_buffer, a counting
        callback (the floor)
  L1    tapio-collector: reader + decode + pipeline, no enrichment, no
        rules (-R an empty directory), -o none
  L2    -p security: decode + enrichment + the security preset's rules
        (default + security sets), -o none, raw storage off
  L3    L2 + raw storage
  L4    L3 + delivery (--server) to a tapio-sink on loopback; what goes
        there is what the rules alert on: 1 record in 100 (the /etc/shadow
        read), so 1% selectivity
  L2a   L2 + -a: every event through every rule to the pipeline's end
        (without -a, an event no rule may alert on skips Lua), -o none
  json  L2a + -o json (every event rendered) to /dev/null: what JSON
        costs is json - L2a
  L2b   L2 for an A/B in the same rounds (not in the default LEVELS): the
        collector B_COLLECTOR (default: this build's) with the shipped
        rule sets from B_RULES_DIR (rules.dir; default: this build's), e.g.
        B_RULES_DIR=/tmp/main-rules LEVELS=L2,L2b KS=100

The collector loads only its process family (-k categories=process): the
records come from the producer, and the other families would add the
machine's own events. Alert aggregation is off (every alert goes out).

Per run: the consumer's CPU time over all its threads (schedstat, its idle
rate subtracted) divided by the records it read: CPU ns/event; events/s on
one core is 1e9 over that. Ratios to L0 are taken within each round;
figures are medians of ROUNDS rounds.

  tests/bench/suite.py build pipeline  (ROUNDS=5, SECONDS_PER_RUN=2, KS=1,10,100)
"""
import os
import shutil
import sys
import tempfile
import time

import benchlib as bl

SECONDS = float(os.environ.get("SECONDS_PER_RUN", "2"))
KS = [int(k) for k in os.environ.get("KS", "1,10,100").split(",")]
LEVELS = os.environ.get("LEVELS", "L0,L1,L2,L3,L4,L2a,json").split(",")
RING = 32 << 20

WHAT = {
    "L0": "bare libbpf consumer (floor)",
    "L1": "reader + decode + pipeline",
    "L2": "+ enrichment + security preset rules",
    "L3": "L2 + raw storage",
    "L4": "L3 + delivery to tapio-sink (1% selected)",
    "L2a": "L2 + -a (every event through the rules), -o none",
    "json": "L2a + -o json to /dev/null",
    "L2b": "L2 with B_COLLECTOR / B_RULES_DIR (A/B)",
}


class Bare(bl.Proc):
    def __init__(self):
        super().__init__([bl.BARE, str(RING), "--ring-only"], ready="ready", cpu=bl.CONSUMER_CPU)

    def records(self):
        return None  # known at exit only

    def counts_at_exit(self):
        line = self.wait_for("records ", 10) or ""
        w = line.split()
        return int(w[1]), int(w[5])


def start(level, tmp):
    """The consumer of a level (and the sink of L4)."""
    empty = os.path.join(tmp, "norules")
    os.makedirs(empty, exist_ok=True)
    if level == "L0":
        return Bare(), None
    base = ["-k", "categories=process", "--set", "ring.size=%d" % RING]
    base += bl.sets(rules__aggregate_window=0)
    if level == "L1":
        return bl.Collector(*base, "--set", "rules.paths=" + empty, "--set",
                            "enrich.enabled=false"), None
    sec = ["-p", "security"] + base
    if level == "L2":
        return bl.Collector(*sec), None
    if level == "L2b":
        b = ["--set", "rules.dir=" + os.environ["B_RULES_DIR"]] \
            if os.environ.get("B_RULES_DIR") else []
        return bl.Collector(*sec, *b, binary=os.environ.get("B_COLLECTOR") or bl.BIN), None
    if level == "L3":
        return bl.Collector(*sec, raw=True), None
    if level == "L2a":
        return bl.Collector(*sec, "-a"), None
    if level == "json":
        return bl.Collector(*sec, "-a", output="json", stdout=open(os.devnull, "w")), None
    if level == "L4":
        out = os.path.join(tmp, "sink.jsonl")
        sink = bl.Proc([bl.SINK, "--listen", "127.0.0.1:0", "--out", out],
                       ready="listening on", cpu=bl.LOAD_CPU)
        port = sink.wait_for("listening on").split(":")[-1].strip()
        c = bl.Collector(*sec, "--server", "127.0.0.1:" + port, raw=True)
        c.sink, c.sink_out = sink, out
        return c, sink
    raise ValueError(level)


def measure(c, k):
    """One flood of K-record runs into consumer c: its CPU ns per record."""
    idle = bl.idle_rate(c.pid, 0.5)
    m0 = c.metrics() if hasattr(c, "metrics") else None
    c0, w0 = bl.cpu_ns(c.pid), time.monotonic()
    prod = bl.produce(c.pid, k, seconds=SECONDS)
    c1, w1 = bl.wait_idle(c.pid, idle)
    res = {"emitted": prod["emitted"], "full": prod["full"], "busy": c1 - c0 - idle * (w1 - w0),
           "wall": w1 - w0}
    if m0 is not None:
        m1 = c.metrics()
        res["records"] = bl.msum(m1, "tapio_kernel_records_total") - \
            bl.msum(m0, "tapio_kernel_records_total")
    return res


def run():
    bl.require_root()
    bl.build("tapio-collector", "tapio-sink", "bench_bare_consumer", "bench_producer")
    res = {(lv, k): [] for lv in LEVELS for k in KS}
    ratio = {(lv, k): [] for lv in LEVELS for k in KS}
    for rnd in range(bl.ROUNDS):
        floor = {}
        for lv in LEVELS:
            tmp = tempfile.mkdtemp(prefix="tapio-bench-pipe-")
            c, sink = start(lv, tmp)
            runs = []
            try:
                for k in KS:
                    runs.append((k, measure(c, k)))
            finally:
                c.stop()
                if sink:
                    time.sleep(0.5)
                    sink.stop()
            if lv == "L0":
                # Counts at exit, for the whole run: shared by the Ks in
                # proportion to what each emitted (none was dropped).
                total, drops = c.counts_at_exit()
                emitted = sum(r["emitted"] - r["full"] for _, r in runs) or 1
                for _, r in runs:
                    r["records"] = total * (r["emitted"] - r["full"]) / emitted
            delivered = None
            if sink:
                with open(c.sink_out) as f:
                    delivered = sum(1 for _ in f)
            shutil.rmtree(tmp, ignore_errors=True)
            for k, r in runs:
                r["ns"] = r["busy"] / max(r["records"], 1)
                r["delivered"] = delivered
                if lv == "L0":
                    floor[k] = r["ns"]
                res[(lv, k)].append(r)
                ratio[(lv, k)].append(r["ns"] / floor[k] if floor.get(k) else None)
                bl.log("round %d %s K=%d: %.0f ns/event, %d records, %d full" % (
                    rnd + 1, lv, k, r["ns"], r["records"], r["full"]))
    tables = []
    for k in KS:
        t = bl.Table("Pipeline throughput, K = %d record%s per BPF run" % (k, "s" if k > 1 else ""),
                     ["level", "what", "CPU ns/event", "events/s on one core", "x L0",
                      "records read/round", "ring full/round"])
        for lv in LEVELS:
            rs = res[(lv, k)]
            ns = bl.median(r["ns"] for r in rs)
            t.add(lv, WHAT[lv], ns, "%.2fM" % (1e3 / ns) if ns else "-",
                  bl.fmt(bl.median(ratio[(lv, k)]), "%.2f"),
                  bl.median(r["records"] for r in rs), bl.median(r["full"] for r in rs))
        tables.append(t)
    summary = targets(res, ratio)
    return tables + [summary]


def targets(res, ratio):
    k = max(KS)

    def ns(lv):
        return bl.median(r["ns"] for r in res.get((lv, k), [])) if (lv, k) in res else None
    t = bl.Table("Pipeline targets (K = %d)" % k, ["target", "measured", "result"])
    l2, l3, l2a, js = ns("L2"), ns("L3"), ns("L2a"), ns("json")
    r2 = bl.median(ratio.get(("L2", k), []))
    if l2:
        t.add("L2 >= 3,000,000 events/s on one core", "%.2fM/s (%.0f ns/event)" % (1e3 / l2, l2),
              bl.target(l2 <= 333.3, "%.1fx the budget" % (l2 / 333.3) if l2 > 333.3 else ""))
    if r2:
        t.add("L2 <= 4x L0", "%.1fx" % r2, bl.target(r2 <= 4, ""))
    if l2 and l3:
        t.add("raw storage <= 100 ns/event over L2", "%.0f ns" % (l3 - l2),
              bl.target(l3 - l2 <= 100, ""))
    if l2a and js:
        t.add("-o json <= 200 ns/event (json - L2a)", "%.0f ns" % (js - l2a),
              bl.target(js - l2a <= 200, ""))
    return t


if __name__ == "__main__":
    sys.exit(bl.main(run))
