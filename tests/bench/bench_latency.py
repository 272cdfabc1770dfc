#!/usr/bin/python3
"""Benchmark 6: latency from the kernel's timestamp to the output.

The test-only BPF producer sends benchmark 1's node mix at RATE events/s
(runs of K = 10) into a collector with -p security and -a (every event
goes out), its process family only. Each event carries the kernel's
timestamp (bpf_ktime_get_boot_ns at emit, on the wall clock in "ts").

  -> output line   -o json on stdout: the time a reader here gets the
                   line, minus ts
  -> server        --server to a tapio-sink on loopback (its JSON lines on
                   stdout): the time a reader gets the sink's line, minus
                   ts; batches leave at server.batch_size events or every
                   server.flush_interval (1 s by default), which this
                   measures as it is shipped

p50 and p99 over every event of the producer's, per round; medians of
ROUNDS rounds.

  tests/bench/suite.py build latency  (ROUNDS=3, RATE=20000, SECONDS_PER_RUN=5)
"""
import os
import re
import subprocess
import sys
import threading
import time

import benchlib as bl

RATE = int(os.environ.get("RATE", "20000"))
SECONDS = float(os.environ.get("SECONDS_PER_RUN", "5"))
TS = re.compile(r'"ts":(\d+)')


class Stamper:
    """Latency of each line of the producer's (comm app-worker)."""

    def __init__(self):
        self.lat, self.lock = [], threading.Lock()

    def __call__(self, line, now_ns):
        if "app-worker" not in line:
            return
        m = TS.search(line)
        if m:
            with self.lock:
                self.lat.append((now_ns - int(m.group(1))) / 1e6)


def to_output():
    st = Stamper()
    c = bl.Collector("-p", "security", "-k", "categories=process", "-a", output="json",
                     on_line=st, keep=0)
    try:
        bl.produce(c.pid, 10, seconds=SECONDS, rate=RATE)
        bl.wait_idle(c.pid, bl.idle_rate(c.pid, 0.3))
        time.sleep(0.5)
    finally:
        c.stop()
    return st.lat


def to_server():
    st = Stamper()
    sink = bl.Proc([bl.SINK, "--listen", "127.0.0.1:0"], ready="listening on", cpu=bl.LOAD_CPU,
                   on_line=st, keep=0)
    port = sink.wait_for("listening on").split(":")[-1].strip()
    c = bl.Collector("-p", "security", "-k", "categories=process", "-a",
                     "--server", "127.0.0.1:" + port)
    try:
        bl.produce(c.pid, 10, seconds=SECONDS, rate=RATE)
        bl.wait_idle(c.pid, bl.idle_rate(c.pid, 0.3))
        time.sleep(2.5)  # the last partial batch (flush interval)
    finally:
        c.stop()
        sink.stop()
    return st.lat


def run():
    bl.require_root()
    bl.build("tapio-collector", "tapio-sink", "bench_producer")
    rows = {"output line (-o json)": [], "tapio-sink on loopback (--server)": []}
    for rnd in range(bl.rounds(3)):
        for name, fn in (("output line (-o json)", to_output),
                         ("tapio-sink on loopback (--server)", to_server)):
            lat = fn()
            r = (bl.percentile(lat, 50), bl.percentile(lat, 99), len(lat))
            rows[name].append(r)
            bl.log("round %d %s: p50 %.1f ms p99 %.1f ms over %d events" % (rnd + 1, name, *r))
    t = bl.Table("Latency, kernel timestamp to output (%d events/s, -p security, -a)" % RATE,
                 ["to", "p50 ms", "p99 ms", "events/round"])
    for name, rs in rows.items():
        t.add(name, bl.fmt(bl.median(r[0] for r in rs), "%.1f"),
              bl.fmt(bl.median(r[1] for r in rs), "%.1f"), bl.median(r[2] for r in rs))
    p99 = bl.median(r[1] for r in rows["output line (-o json)"])
    tgt = bl.Table("Latency target", ["target", "measured", "result"])
    tgt.add("p99 kernel-to-output < 50 ms", "%.1f ms" % p99, bl.target(p99 < 50, ""))
    return [t, tgt]


if __name__ == "__main__":
    sys.exit(bl.main(run))
