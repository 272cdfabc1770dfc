#!/usr/bin/python3
"""Delivery figures: events/s the --server and --otlp outputs sustain to a
receiver on loopback and bytes per event on the wire (medians over runs),
for events without enrichment and with that of a host process and of a
process in a Kubernetes pod (BENCH_CONTEXTS, default "none host pod"),
then a steady load through a receiver outage (60 s by default) with the
loss counted.

  tests/bench/run.sh build bench_delivery
  BENCH_RUNS=5 BENCH_EVENTS=300000 BENCH_OUTAGE=60 BENCH_CONTEXTS="none host pod" \
      tests/bench/bench_delivery.py

The throughput runs drive the real output from bench_delivery (a C driver:
encoding on the emitting thread, batching, gRPC, acks) into tapio-sink
(writing to /dev/null) and into a grpcio OTLP receiver (Python: the OTLP
figure is bounded by that receiver, not by us). The outage run is the real
collector (-a, every event of this machine) with a process-spawning load,
the sink stopped for BENCH_OUTAGE seconds and started again on the same
port and output; it passes when every event the collector emitted is in
the sink's output exactly once.
"""
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
BUILD = os.path.abspath(os.environ.get("TAPIO_BUILD_DIR", os.path.join(HERE, "../../build")))
os.environ["TAPIO_BUILD_DIR"] = BUILD
os.environ.setdefault("TAPIO_BIN", os.path.join(BUILD, "tapio-collector"))

from delivery import OTLP_METHOD, ExportResponse, PyServer, Sink  # noqa: E402
from tapio import Collector  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
EVENTS = int(os.environ.get("BENCH_EVENTS", "300000"))
OUTAGE = int(os.environ.get("BENCH_OUTAGE", "60"))
CONTEXTS = os.environ.get("BENCH_CONTEXTS", "none host pod").split()
DRIVER = os.path.join(BUILD, "tests", "bench_delivery")


def drive(kind, addr, events, context):
    cmd = [DRIVER, kind, addr, str(events), context]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        raise SystemExit("bench_delivery failed: %s" % r.stderr)
    return dict((k, float(v)) for k, v in re.findall(r"(\w+)=([\d.]+)", r.stdout)), " ".join(cmd)


def throughput(kind, addr, events, runs, context):
    res = [drive(kind, addr, events, context) for _ in range(runs)]
    rates = [r["events_per_s"] for r, _ in res]
    size = [r["wire_bytes_per_event"] for r, _ in res]
    drops = sum(r["dropped"] for r, _ in res)
    print("  command: %s   (x%d)" % (res[0][1], runs))
    print("  %s, enrichment %s: median %.0f events/s (min %.0f, max %.0f), %.1f wire bytes/event, %d dropped" % (
        kind, context, statistics.median(rates), min(rates), max(rates), statistics.median(size), drops))


def outage(seconds):
    tmp = tempfile.mkdtemp(prefix="tapio-bench-outage-")
    try:
        out = os.path.join(tmp, "out.jsonl")
        sink = Sink(out)
        port = sink.port
        env = {"TAPIO_SPOOL_DIR": os.path.join(tmp, "spool"), "TAPIO_COLLECTOR_ID": "bench-outage",
               "TAPIO_BACKOFF_MIN": "200ms", "TAPIO_BACKOFF_MAX": "5s", "TAPIO_DRAIN_TIMEOUT": "60s"}
        stop = threading.Event()
        spawned = [0]

        def load():
            # A steady ~200 processes/s (fork, exec, exit each).
            while not stop.is_set():
                subprocess.run(["/bin/true", "outage-load", str(spawned[0])])
                spawned[0] += 1
                time.sleep(0.005)

        with Collector("-a", "-o", "none", "--server", sink.addr, output="none", env=env) as c:
            t = threading.Thread(target=load, daemon=True)
            t.start()
            time.sleep(5)
            sink.stop()
            t_down = time.monotonic()
            time.sleep(seconds)
            sink = Sink(out, port=port)
            down = time.monotonic() - t_down
            time.sleep(10)
            stop.set()
            t.join()
            c.stop(timeout=120)
        sink.stop()
        summary = next(l for l in reversed(c.log) if "grpc: sent " in l)
        emitted = int(re.search(r"events_emitted_total=(\d+)",
                                next(l for l in reversed(c.log) if "stats (exit)" in l)).group(1))
        with open(out) as f:
            lines = sum(1 for _ in f)
        spooled = int(re.search(r"spooled (\d+)", summary).group(1))
        print("  command: BENCH_OUTAGE=%d %s (collector -a -o none --server, sink down %.0f s)"
              % (seconds, os.path.abspath(__file__), down))
        print("  processes spawned %d, events emitted %d, in the sink %d, lost %d" % (
            spawned[0], emitted, lines, emitted - lines))
        print("  collector: %s" % summary.split("grpc: ", 1)[1])
        print("  spooled to disk during the outage: %d events" % spooled)
        if lines != emitted:
            raise SystemExit("outage: %d events emitted, %d in the sink" % (emitted, lines))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    if not os.path.exists(DRIVER):
        raise SystemExit("build first: %s is missing" % DRIVER)
    tmp = tempfile.mkdtemp(prefix="tapio-bench-delivery-")
    try:
        print("delivery throughput, %d events per run, %d runs" % (EVENTS, RUNS))
        with Sink("/dev/null") as sink:
            for context in CONTEXTS:
                throughput("grpc", sink.addr, EVENTS, RUNS, context)
            sink.stop()
        ok = lambda raw, ctx: ExportResponse().SerializeToString()
        with PyServer(OTLP_METHOD, handler=ok) as otlp:
            otlp.requests = _Discard()
            for context in CONTEXTS:
                throughput("otlp", otlp.addr, max(EVENTS // 5, 1000), RUNS, context)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if OUTAGE > 0:
        if os.geteuid() != 0:
            raise SystemExit("the outage run needs root (it runs the collector)")
        print("steady load through a %d s receiver outage" % OUTAGE)
        outage(OUTAGE)


class _Discard(list):
    """The OTLP receiver keeps nothing (a bench would fill memory)."""

    def append(self, x):
        pass


if __name__ == "__main__":
    main()
