#!/usr/bin/python3
"""What the collector's user-space path costs per event, against a bare
ring-buffer consumer on the same load.

The load: tests/bench/loadgen "open" (openat + close in a loop, one
file.open record each), pinned to one CPU. The consumer, pinned to the
other CPU, is in turn:

  bare        libbpf's ring_buffer drained with a counting callback
              (tests/bench/bare_consumer.c), the same file programs, ring
              size and wakeup policy: the floor
  tapio       tapio-collector -o none --raw-dir off -a, file family only,
              no rules (-r an empty directory): reader + decoder + pipeline
  +rules      the same with the default rules (rules/default)
  +raw        the same with raw storage on (a temporary directory)
  +json       the same printing -o json to /dev/null

For each, the consumer's CPU time (every thread, from
/proc/PID/task/*/schedstat, in ns) over the load, less its idle rate, is
divided by the records it received. Figures are medians of REPS rounds;
the ratio to "bare" is taken within each round (this machine is shared).
Kernel drops are reported: a consumer that falls behind shows them.

  tests/bench/run.sh build bench_drain          (REPS=5, ITERS=300000)
"""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("TAPIO_BUILD_DIR", os.path.join(HERE, "../../build"))
SOURCE = os.environ.get("TAPIO_SOURCE_DIR", os.path.join(HERE, "../.."))
BIN = os.path.join(BUILD, "tapio-collector")
BARE = os.path.join(BUILD, "tests", "bench_bare_consumer")
LOADGEN = os.path.join(BUILD, "bench", "loadgen")
REPS = int(os.environ.get("REPS", "5"))
ITERS = int(os.environ.get("ITERS", "300000"))
RING = 8 << 20
LOAD_CPU, CONSUMER_CPU = "0", "1"


def build():
    subprocess.run(["cmake", "--build", BUILD, "--target", "bench_bare_consumer",
                    "tapio-collector"], check=True, stdout=subprocess.DEVNULL)
    os.makedirs(os.path.dirname(LOADGEN), exist_ok=True)
    src = os.path.join(HERE, "loadgen.c")
    if not os.path.exists(LOADGEN) or os.path.getmtime(LOADGEN) < os.path.getmtime(src):
        subprocess.run(["cc", "-O2", "-Wall", "-o", LOADGEN, src], check=True)


def cpu_ns(pid):
    """CPU time of every thread of pid, in ns."""
    total = 0
    d = "/proc/%d/task" % pid
    for t in os.listdir(d):
        try:
            with open(os.path.join(d, t, "schedstat")) as f:
                total += int(f.read().split()[0])
        except OSError:
            pass  # a thread that just ended
    return total


class Consumer:
    def __init__(self, cmd, ready, stdout=subprocess.PIPE):
        self.proc = subprocess.Popen(["taskset", "-c", CONSUMER_CPU] + cmd, stdout=stdout,
                                     stderr=subprocess.PIPE, text=True)
        self.out, self.err = [], []
        ev = threading.Event()

        def read(f, into):
            for line in f:
                into.append(line)
                if ready in line:
                    ev.set()
        self.threads = [threading.Thread(target=read, args=(f, into), daemon=True)
                        for f, into in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))
                        if f is not None]
        for t in self.threads:
            t.start()
        if not ev.wait(120):
            self.proc.kill()
            raise RuntimeError("%s did not start: %s" % (cmd[0], "".join(self.err[-5:])))

    def stop(self):
        self.proc.send_signal(15)
        self.proc.wait(60)
        for t in self.threads:
            t.join(10)


def bare():
    c = Consumer([BARE, str(RING)], "ready")

    def counts():
        m = re.search(r"records (\d+) bytes \d+ drops (\d+)", "".join(c.out))
        return int(m.group(1)), int(m.group(2))
    return c, counts


def tapio(*extra, stdout=subprocess.DEVNULL):
    empty = tempfile.mkdtemp(prefix="tapio-bench-norules-")
    args = [BIN, "-a", "-k", "categories=file", "--metrics-addr", "127.0.0.1:0",
            "--log-level", "info"]
    if "--rules-default" in extra:
        extra = tuple(a for a in extra if a != "--rules-default")
    else:
        args += ["-r", empty]
    if "--raw-dir" not in extra:
        args += ["--raw-dir", "off"]
    if "-o" not in extra:
        args += ["-o", "none"]
    c = Consumer(args + list(extra), "ready:", stdout=stdout)

    def counts():
        shutil.rmtree(empty, ignore_errors=True)
        line = next((l for l in c.err if "stats (exit):" in l), "")
        rec = re.search(r"kernel_records_total=(\d+)", line)
        drops = sum(int(x) for x in re.findall(r"kernel_drops_total\{[^}]*\}=(\d+)", line))
        if not rec:
            raise RuntimeError("no exit stats from the collector: %s" % "".join(c.err[-5:]))
        return int(rec.group(1)), drops
    return c, counts


def run_one(start):
    c, counts = start()
    time.sleep(1.0)
    t0, w0 = cpu_ns(c.proc.pid), time.monotonic()
    time.sleep(1.0)
    idle_rate = (cpu_ns(c.proc.pid) - t0) / (time.monotonic() - w0)  # ns per s
    t1, w1 = cpu_ns(c.proc.pid), time.monotonic()
    out = subprocess.run(["taskset", "-c", LOAD_CPU, LOADGEN, "open", str(ITERS)],
                         capture_output=True, text=True, check=True).stdout.split()
    time.sleep(0.5)  # the last drain tick
    t2, w2 = cpu_ns(c.proc.pid), time.monotonic()
    c.stop()
    records, drops = counts()
    busy = (t2 - t1) - idle_rate * (w2 - w1)
    return {"ns_per_record": busy / max(records, 1), "records": records, "drops": drops,
            "load_ns": float(out[1])}


def main():
    if os.geteuid() != 0:
        print("SKIP: bench_drain needs root")
        return 0
    build()
    raw = tempfile.mkdtemp(prefix="tapio-bench-raw-")
    modes = [
        ("bare", "libbpf ring_buffer, counting callback", bare),
        ("tapio", "reader + decode + pipeline, no rules, -o none", lambda: tapio()),
        ("+rules", "with the default rules", lambda: tapio("--rules-default")),
        ("+raw", "default rules + raw storage", lambda: tapio("--rules-default", "--raw-dir", raw)),
        ("+json", "default rules + -o json to /dev/null",
         lambda: tapio("--rules-default", "-o", "json")),
    ]
    res = {m[0]: [] for m in modes}
    ratio = {m[0]: [] for m in modes}
    try:
        for _ in range(REPS):
            base = None
            for name, _, start in modes:
                r = run_one(start)
                res[name].append(r)
                if name == "bare":
                    base = r["ns_per_record"]
                ratio[name].append(r["ns_per_record"] / base if base else float("nan"))
                shutil.rmtree(raw, ignore_errors=True)
                os.makedirs(raw, exist_ok=True)
    finally:
        shutil.rmtree(raw, ignore_errors=True)
    print("load: %d openat+close per round, medians of %d rounds" % (ITERS, REPS))
    print("%-8s %-48s %12s %8s %10s %8s" % ("consumer", "", "CPU ns/rec", "x bare", "records",
                                            "drops"))
    for name, what, _ in modes:
        rs = res[name]
        print("%-8s %-48s %12.0f %8.2f %10d %8d" % (
            name, what, statistics.median(r["ns_per_record"] for r in rs),
            statistics.median(ratio[name]), statistics.median(r["records"] for r in rs),
            max(r["drops"] for r in rs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
