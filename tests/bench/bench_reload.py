#!/usr/bin/python3
"""Benchmark 5: rule reload.

  swap time    SIGHUP to the "rules reloaded" log line (the new set in use)
               with generated sets of 100 and 1,000 rules (file.open rules,
               each with a path test in `when` and two inline tests), on an
               idle collector: RELOADS reloads per size, median and worst
  under load   -p security while the test-only BPF producer sends
               LOAD_RATE events/s (benchmark 1's node mix): RELOADS_UNDER
               reloads back to back (the next SIGHUP once the previous set
               is in use); events lost = records sent - records read + any
               the ring had no room for; every event read went through the
               rules (-a: all pass to the pipeline's end)

  tests/bench/suite.py build reload  (RELOADS=10, RELOADS_UNDER=100, LOAD_RATE=50000)
"""
import os
import shutil
import signal
import sys
import tempfile
import threading
import time

import benchlib as bl

RELOADS = int(os.environ.get("RELOADS", "10"))
RELOADS_UNDER = int(os.environ.get("RELOADS_UNDER", "100"))
LOAD_RATE = int(os.environ.get("LOAD_RATE", "50000"))
SIZES = [int(x) for x in os.environ.get("SIZES", "100,1000").split(",")]

RULE = '''rule {
  name = "bench_rule_%(i)d",
  desc = "generated for the reload benchmark",
  events = { "file.open" },
  severity = "notice",
  when = function(e) return e.path == "/bench/%(i)d" and e.ret >= 0 end,
  output = "${path} opened by ${comm} (pid ${pid})",
  tests = {
    { event = { type = "file.open", path = "/bench/%(i)d", ret = 3 }, expect = true },
    { event = { type = "file.open", path = "/bench/x", ret = 3 }, expect = false },
  },
}
'''


def make_rules(n, d):
    per_file = 50
    for f in range((n + per_file - 1) // per_file):
        with open(os.path.join(d, "bench_%04d.lua" % f), "w") as out:
            for i in range(f * per_file, min(n, (f + 1) * per_file)):
                out.write(RULE % {"i": i})


def reload_once(c, timeout=120):
    """Seconds from SIGHUP to the swap line."""
    n0 = c.count("rules reloaded")
    t0 = time.monotonic()
    c.proc.send_signal(signal.SIGHUP)
    deadline = t0 + timeout
    while c.count("rules reloaded") == n0:
        if time.monotonic() > deadline or c.proc.poll() is not None:
            raise RuntimeError("no reload within %d s: %s" % (timeout, "".join(c.err[-5:])))
        time.sleep(0.001)
    return time.monotonic() - t0


def swap_times(n):
    d = tempfile.mkdtemp(prefix="tapio-bench-rules-")
    make_rules(n, d)
    c = bl.Collector("-k", "categories=process", "--set", "rules.paths=" + d)
    try:
        return [reload_once(c) for _ in range(RELOADS)]
    finally:
        c.stop()
        shutil.rmtree(d, ignore_errors=True)


def under_load():
    c = bl.Collector("-p", "security", "-k", "categories=process", "-a")
    try:
        m0 = c.metrics()
        done = threading.Event()
        times = []

        def reloads():
            try:
                for _ in range(RELOADS_UNDER):
                    times.append(reload_once(c))
            finally:
                done.set()
        t = threading.Thread(target=reloads)
        t.start()
        # Produce in 1-second slices until the reloads are over.
        sent = full = 0
        while not done.is_set():
            p = bl.produce(c.pid, 10, seconds=1, rate=LOAD_RATE)
            sent += p["emitted"]
            full += p["full"]
        t.join()
        bl.wait_idle(c.pid, bl.idle_rate(c.pid, 0.3))
        m1 = c.metrics()
        read = bl.msum(m1, "tapio_kernel_records_total") - bl.msum(m0, "tapio_kernel_records_total")
        return {"sent": sent + full, "lost": full + max(0, sent - read), "times": times}
    finally:
        c.stop()


def run():
    bl.require_root()
    bl.build("tapio-collector", "bench_producer")
    t = bl.Table("Rule reload: SIGHUP to the new set in use", ["rules", "median ms", "worst ms",
                                                                 "reloads"])
    tgt = bl.Table("Reload targets", ["target", "measured", "result"])
    for n in SIZES:
        ts = swap_times(n)
        bl.log("%d rules: %s ms" % (n, ", ".join("%.0f" % (x * 1e3) for x in ts)))
        t.add(str(n), bl.median(ts) * 1e3, max(ts) * 1e3, str(len(ts)))
        if n == 100:
            tgt.add("reload < 50 ms for 100 rules", "%.0f ms median" % (bl.median(ts) * 1e3),
                    bl.target(bl.median(ts) < 0.05, ""))
    u = under_load()
    t2 = bl.Table("Reloads under load (-p security, %d events/s)" % LOAD_RATE, ["measure", "value"])
    t2.add("reloads", str(len(u["times"])))
    t2.add("SIGHUP to swap, median / worst ms", "%.0f / %.0f" % (bl.median(u["times"]) * 1e3,
                                                                max(u["times"]) * 1e3))
    t2.add("events sent / lost", "%d / %d" % (u["sent"], u["lost"]))
    tgt.add("0 events lost across %d reloads" % len(u["times"]), "%d lost" % u["lost"],
            bl.target(u["lost"] == 0, ""))
    return [t, t2, tgt]


if __name__ == "__main__":
    sys.exit(bl.main(run))
