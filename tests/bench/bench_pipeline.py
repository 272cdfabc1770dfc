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
  L2ab  L2a and json with B_COLLECTOR and B_RULES_DIR, as L2b (not in
  jsonb the default LEVELS)
  L3b   L3 with B_COLLECTOR and B_RULES_DIR, as L2b (not in the default
        LEVELS): LEVELS=L3,L3b for an A/B of raw storage

The collector loads only its process family (-k categories=process): the
records come from the producer, and the other families would add the
machine's own events. Alert aggregation is off (every alert goes out).

Per run: the consumer's CPU time over all its threads (schedstat, its idle
rate subtracted) divided by the records it read: CPU ns/event; events/s on
one core is 1e9 over that. Ratios to L0 are taken within each round;
figures are medians of ROUNDS rounds. What -o json costs (its target) is
json - L2a taken within each round, the median of those differences.
What raw storage costs (its target) is measured inside the L3 collector,
not as L3 - L2 (two collectors whose figures each move by more than the
target between rounds): the raw stage on the reader thread (the
collector's own tapio_pipeline_seconds_total{stage="raw"}, 1 event in 64,
wall clock, less the cost of one clock read that the collector measures at
start: ~25 ns on this VM) plus the CPU of the writer thread ("tapio-raw":
CRC and write; the reader codes the frame) per record; the writer
runs on the producer's CPU, so that its wake-ups do not preempt the reader
inside the timed stage. L3 - L2 per round is printed below it.
RAW_RETENTION=256MB gives L3 (L3b, L4) that storage.retention_size instead
of the default 1 GiB: the K = 100 run of the default crosses it, and its
writer then pays for page-cache pages new to the machine (on a VM with
free page reporting, a host fault each); under a smaller cap the run
writes into pages the earlier runs freed.
RING_MB=8 sizes every level's ring (the consumer's, which the producer
writes into) instead of 32 MiB.
Around each level the consumer's CPU runs a speed probe: bench_lua_mix,
the same mix through the security rules in process (no ring, no kernel),
before and after the level's runs. The per-round table puts its CPU
ns/event beside L0, L2 and json: on this VM the probe moves by up to 1.7x
within seconds while L0 (bound by the ring's cache misses) barely moves,
so L2 / L0 and json - L2a move with the machine, not only with the code.

  tests/bench/suite.py build pipeline  (ROUNDS=5, SECONDS_PER_RUN=2, KS=1,10,100)

MODE=json: what -o json costs, A/B. Runs L2a and json (and L2ab and jsonb
when B_COLLECTOR names another build), KS=100 unless set, the order of
the levels reversed every other round, and prints per round json - L2a
(CPU ns/event, as the target), the outputs stage of the collector's own
tapio_pipeline_seconds_total (wall, 1 event in 64) per event, and the
medians; with B_COLLECTOR also (json - L2a) - (jsonb - L2ab) per round.
CALLGRIND=1 adds a load-independent figure: each build's json level
under callgrind (cache simulation: 32 KiB L1), N_CALLGRIND records
(default 20000, K=100) from the producer with the Lua work in between as
in the pipeline, and the instructions and L1 misses of the stdout output
(its emit and flush, the formatter and write() included) per line.

  MODE=json B_COLLECTOR=/tmp/main/build/tapio-collector ROUNDS=7 CALLGRIND=1 \
    flock /work/bench.lock flock /work/test.lock tests/bench/bench_pipeline.py

MODE=callgrind: what L2 costs per record whatever the machine's load: the
L2 collector (and B_COLLECTOR's, when set) under callgrind, counting the
instructions of its pipeline (tp_pipeline_event: decode, enrichment, the
security rules) over N_CALLGRIND records (default 150000, K=100, into a
64 MiB ring that holds them all while valgrind drains it: the caches'
first misses count for little). One run per build moves by 1-2 %. The
collector attaches its process family, so the machine's own forks and
execs run through it too: run it alone (no suite beside it).

  MODE=callgrind B_COLLECTOR=/tmp/main/build/tapio-collector \
    flock /work/bench.lock flock /work/test.lock tests/bench/bench_pipeline.py
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import benchlib as bl

SECONDS = float(os.environ.get("SECONDS_PER_RUN", "2"))
MODE = os.environ.get("MODE", "")
KS = [int(k) for k in os.environ.get("KS", "100" if MODE == "json" else "1,10,100").split(",")]
B_COLLECTOR = os.environ.get("B_COLLECTOR") or ""
LEVELS = os.environ.get("LEVELS", "L0,L1,L2,L3,L4,L2a,json").split(",")
if MODE == "json" and not os.environ.get("LEVELS"):
    LEVELS = ["L2a", "json"] + (["L2ab", "jsonb"] if B_COLLECTOR else [])
RING = int(os.environ.get("RING_MB", "32")) << 20
RAW_THREAD = "tapio-raw"  # the raw storage writer thread (TP_RAW_THREAD_NAME)

WHAT = {
    "L0": "bare libbpf consumer (floor)",
    "L1": "reader + decode + pipeline",
    "L2": "+ enrichment + security preset rules",
    "L3": "L2 + raw storage",
    "L4": "L3 + delivery to tapio-sink (1% selected)",
    "L2a": "L2 + -a (every event through the rules), -o none",
    "json": "L2a + -o json to /dev/null",
    "L2b": "L2 with B_COLLECTOR / B_RULES_DIR (A/B)",
    "L2ab": "L2a with B_COLLECTOR (A/B)",
    "jsonb": "json with B_COLLECTOR (A/B)",
    "L3b": "L3 with B_COLLECTOR / B_RULES_DIR (A/B)",
}
# The json levels and the level each is measured over.
JSON_OVER = {"json": "L2a", "jsonb": "L2ab"}


class Bare(bl.Proc):
    def __init__(self):
        super().__init__([bl.BARE, str(RING), "--ring-only"], ready="ready", cpu=bl.CONSUMER_CPU)

    def records(self):
        return None  # known at exit only

    def counts_at_exit(self):
        line = self.wait_for("records ", 10) or ""
        w = line.split()
        return int(w[1]), int(w[5])


def b_binary(level):
    """The collector of a level: B_COLLECTOR for the A/B ones."""
    return (B_COLLECTOR or bl.BIN) if level.endswith("b") else bl.BIN


def b_args(level):
    """The rule sets of a level: B_RULES_DIR for the A/B ones."""
    if level.endswith("b") and os.environ.get("B_RULES_DIR"):
        return ["--set", "rules.dir=" + os.environ["B_RULES_DIR"]]
    return []


def raw_sets():
    """RAW_RETENTION (see the top): the raw levels' retention cap."""
    r = os.environ.get("RAW_RETENTION")
    return ["--set", "storage.retention_size=" + r] if r else []


def writer_apart(c):
    """The raw storage writer thread moved to the producer's CPU: on the
    consumer's, each wake-up preempts the reader and the raw stage's own
    (wall-clock) timer would count the writer's batch in the reader's
    stage. Its CPU is counted apart (measure: raw_writer_ns) and in the
    level's figure as before (CPU of all threads)."""
    for tid in bl.threads(c.pid, RAW_THREAD):
        os.sched_setaffinity(tid, {int(bl.LOAD_CPU)})
    return c


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
        return bl.Collector(*sec, *b_args(level), binary=b_binary(level)), None
    if level == "L3":
        return writer_apart(bl.Collector(*sec, *raw_sets(), raw=True)), None
    if level == "L3b":
        return writer_apart(bl.Collector(*sec, *b_args(level), *raw_sets(), raw=True,
                                         binary=b_binary(level))), None
    if level in ("L2a", "L2ab"):
        return bl.Collector(*sec, *b_args(level), "-a", binary=b_binary(level)), None
    if level in ("json", "jsonb"):
        return bl.Collector(*sec, *b_args(level), "-a", output="json",
                            stdout=open(os.devnull, "w"), binary=b_binary(level)), None
    if level == "L4":
        out = os.path.join(tmp, "sink.jsonl")
        sink = bl.Proc([bl.SINK, "--listen", "127.0.0.1:0", "--out", out],
                       ready="listening on", cpu=bl.LOAD_CPU)
        port = sink.wait_for("listening on").split(":")[-1].strip()
        c = writer_apart(bl.Collector(*sec, "--server", "127.0.0.1:" + port, raw=True))
        c.sink, c.sink_out = sink, out
        return c, sink
    raise ValueError(level)


def measure(c, k):
    """One flood of K-record runs into consumer c: its CPU ns per record.
    With raw storage, also what storage itself costs per record: the raw
    stage on the reader thread (the pipeline's own timer) and the CPU of
    the writer thread (RAW_THREAD), each over its idle rate."""
    w_idle0, t_idle0 = bl.cpu_ns(c.pid, RAW_THREAD), time.monotonic()
    idle = bl.idle_rate(c.pid, 0.5)
    w_idle = (bl.cpu_ns(c.pid, RAW_THREAD) - w_idle0) / (time.monotonic() - t_idle0)
    m0 = c.metrics() if hasattr(c, "metrics") else None
    c0, w0 = bl.cpu_ns(c.pid), time.monotonic()
    wr0 = bl.cpu_ns(c.pid, RAW_THREAD)
    prod = bl.produce(c.pid, k, seconds=SECONDS)
    c1, w1 = bl.wait_idle(c.pid, idle)
    res = {"emitted": prod["emitted"], "full": prod["full"], "busy": c1 - c0 - idle * (w1 - w0),
           "wall": w1 - w0}
    if m0 is not None:
        m1 = c.metrics()
        wr1, wt1 = bl.cpu_ns(c.pid, RAW_THREAD), time.monotonic()
        res["records"] = bl.msum(m1, "tapio_kernel_records_total") - \
            bl.msum(m0, "tapio_kernel_records_total")
        n = max(res["records"], 1)
        out = 'tapio_pipeline_seconds_total{stage="outputs"}'
        if out in m1:
            res["outputs_ns"] = (m1[out] - m0.get(out, 0)) * 1e9 / n
        raw = 'tapio_pipeline_seconds_total{stage="raw"}'
        if raw in m1:
            res["raw_stage_ns"] = (m1[raw] - m0.get(raw, 0)) * 1e9 / n
            res["raw_writer_ns"] = max(wr1 - wr0 - w_idle * (wt1 - w0), 0) / n
            res["raw_ns"] = res["raw_stage_ns"] + res["raw_writer_ns"]
    return res


PROBE = os.path.join(bl.BUILD, "tests", "bench_lua_mix")


def speed_probe():
    """How fast the consumer's CPU computes now: the node mix through the
    security rules in process (bench_lua_mix: L2's rule work without the
    ring, ~0.05 s), CPU ns/event; None when it cannot run. On this VM it
    moves by up to 1.7x within seconds (the host), while L0 (the ring's
    cache misses, not instructions) barely moves: L2 / L0 moves with it.
    Taken around each level, so that a round's figures show the machine's
    speed then (the per-round table)."""
    global probe_failed
    try:
        p = subprocess.run(["taskset", "-c", bl.CONSUMER_CPU, PROBE,
                            os.path.join(bl.SOURCE, "rules"), "300", "3"],
                           capture_output=True, text=True, timeout=60)
        m = re.search(r"median (\d+) thread CPU ns/event", p.stdout)
        why = None if m else (p.stderr.strip() or p.stdout.strip() or "no figure")[-200:]
    except (OSError, subprocess.SubprocessError) as e:
        m, why = None, str(e)
    if why and not probe_failed:
        bl.log("speed probe (%s) did not run: %s; its columns read -" % (PROBE, why))
        probe_failed = True
    return int(m.group(1)) if m else None


probe_failed = False


def probe_mean(a, b):
    return (a + b) / 2 if a is not None and b is not None else a if b is None else b


def run():
    bl.require_root()
    bl.build("tapio-collector", "tapio-sink", "bench_bare_consumer", "bench_producer",
             "bench_lua_mix")
    if MODE == "callgrind":
        return callgrind_l2_table()
    res = {(lv, k): [] for lv in LEVELS for k in KS}
    ratio = {(lv, k): [] for lv in LEVELS for k in KS}
    for rnd in range(bl.ROUNDS):
        floor = {}
        # A/B of json: every other round in the other order (load drifts).
        for lv in (LEVELS[::-1] if MODE == "json" and rnd % 2 else LEVELS):
            tmp = tempfile.mkdtemp(prefix="tapio-bench-pipe-")
            c, sink = start(lv, tmp)
            runs = []
            try:
                p0 = speed_probe()
                for k in KS:
                    runs.append((k, measure(c, k)))
                probe = probe_mean(p0, speed_probe())
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
                r["round"] = rnd
                r["probe"] = probe
                bl.log("round %d %s K=%d: %.0f ns/event, %d records, %d full%s%s" % (
                    rnd + 1, lv, k, r["ns"], r["records"], r["full"],
                    ", raw %.0f + %.0f ns" % (r["raw_stage_ns"], r["raw_writer_ns"])
                    if "raw_ns" in r else "",
                    ", speed probe %.0f ns" % probe if probe is not None else ""))
    if MODE == "json":
        return json_tables(res) + (callgrind_table() if os.environ.get("CALLGRIND") else [])
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
    return tables + [summary] + rounds_table(res)


def rounds_table(res):
    """Per round at the largest K: L0, L2, L2 / L0, json - L2a, each with
    the speed probe taken around its level (speed_probe)."""
    k = max(KS)
    if not res.get(("L2", k)):
        return []
    by = {(lv, r["round"]): r for lv in LEVELS for r in res.get((lv, k), [])}
    t = bl.Table("Per round, K = %d: CPU ns/event, and beside each level the speed probe "
                 "around it (the rule mix in process, bench_lua_mix: CPU ns/event; higher is "
                 "a slower machine)" % k,
                 ["round", "L0", "probe at L0", "L2", "probe at L2", "L2 / L0", "json - L2a",
                  "probe at json"])
    jc = json_cost(res, "json", k)

    def f(v, fmt="%.0f"):
        return fmt % v if v is not None else "-"
    for rnd in sorted({r["round"] for r in res[("L2", k)]}):
        l0, l2, js = by.get(("L0", rnd)), by.get(("L2", rnd)), by.get(("json", rnd))
        t.add(str(rnd + 1), f(l0 and l0["ns"]), f(l0 and l0.get("probe")), f(l2 and l2["ns"]),
              f(l2 and l2.get("probe")),
              f(l2["ns"] / l0["ns"] if l0 and l2 and l0["ns"] else None, "%.2f"),
              f(jc.get(rnd)), f(js and js.get("probe")))
    return [t]


def json_cost(res, lv, k):
    """json - the level under it, per round (the rounds both ran)."""
    over = {r["round"]: r["ns"] for r in res.get((JSON_OVER[lv], k), [])}
    return {r["round"]: r["ns"] - over[r["round"]] for r in res.get((lv, k), [])
            if r["round"] in over}


def json_tables(res):
    """MODE=json: per round and medians, CPU ns/event; a json level whose
    level under it did not run (LEVELS=json,jsonb) shows its own figures."""
    tables = []
    tops = [lv for lv in ("json", "jsonb") if lv in LEVELS]
    pairs = [lv for lv in tops if JSON_OVER[lv] in LEVELS]
    for k in KS:
        cols = ["round"]
        for lv in tops:
            if lv in pairs:
                cols += [JSON_OVER[lv], lv, "%s - %s" % (lv, JSON_OVER[lv])]
            else:
                cols.append(lv)
            cols.append("outputs stage (%s)" % lv)
        if len(pairs) == 2:
            cols.append("(json - L2a) - (jsonb - L2ab)")
        elif len(tops) == 2:
            cols.append("outputs stage json - jsonb")
        t = bl.Table("-o json cost, K = %d: CPU ns/event (this build%s)" % (
            k, ", jsonb: " + B_COLLECTOR if "jsonb" in tops else ""), cols)
        cost = {lv: json_cost(res, lv, k) for lv in pairs}
        by = {lv: {r["round"]: r for r in res.get((lv, k), [])} for lv in LEVELS}
        rows = []
        for rnd in range(bl.ROUNDS):
            row, stage = [str(rnd + 1)], {}
            for lv in tops:
                top = by[lv].get(rnd)
                if lv in pairs:
                    over = by[JSON_OVER[lv]].get(rnd)
                    row += [over and over["ns"], top and top["ns"], cost[lv].get(rnd)]
                else:
                    row.append(top and top["ns"])
                stage[lv] = top and top.get("outputs_ns")
                row.append(stage[lv])
            if len(pairs) == 2:
                a, b = cost["json"].get(rnd), cost["jsonb"].get(rnd)
                row.append(a - b if a is not None and b is not None else None)
            elif len(tops) == 2:
                a, b = stage["json"], stage["jsonb"]
                row.append(a - b if a is not None and b is not None else None)
            rows.append(row)
        med = ["median"] + [bl.median(r[i] for r in rows) for i in range(1, len(cols))]
        for row in rows + [med]:
            t.add(*[bl.fmt(c) for c in row])
        tables.append(t)
    return tables


def callgrind_lines(binary):
    """One run of the json level under callgrind: (Ir, L1 misses, LL misses)
    of the stdout output per line."""
    tmp = tempfile.mkdtemp(prefix="tapio-bench-cg-")
    out = os.path.join(tmp, "cg.out")
    cmd = ["valgrind", "--tool=callgrind", "--cache-sim=yes", "--callgrind-out-file=" + out,
           "--collect-atstart=no", "--toggle-collect=stdout_emit", "--toggle-collect=stdout_flush",
           binary, "-o", "json", "--raw-dir", "off", "--metrics-addr", "127.0.0.1:0",
           "--set", "delivery.spool_dir=" + os.path.join(tmp, "spool"),
           "-p", "security", "-k", "categories=process", "--set", "ring.size=%d" % RING]
    cmd += bl.sets(rules__aggregate_window=0) + ["-a"]
    lines = os.path.join(tmp, "out.jsonl")
    with open(lines, "w") as f:
        c = bl.Proc(cmd, ready="ready:", cpu=bl.CONSUMER_CPU, stdout=f, ready_timeout=600)
        try:
            idle = bl.idle_rate(c.pid, 1.0)
            bl.produce(c.pid, 100, count=int(os.environ.get("N_CALLGRIND", "20000")))
            bl.wait_idle(c.pid, idle, settle=2, timeout=600)
        finally:
            c.stop(timeout=600)
    with open(lines, "rb") as f:
        nlines = sum(1 for _ in f)
    with open(out) as f:
        text = f.read()
    shutil.rmtree(tmp, ignore_errors=True)
    ev = re.search(r"^events: (.*)$", text, re.M).group(1).split()
    tot = dict(zip(ev, (int(x) for x in re.search(r"^(?:summary|totals): (.*)$", text, re.M)
                        .group(1).split())))
    n = max(nlines, 1)
    return (tot["Ir"] / n, (tot["D1mr"] + tot["D1mw"]) / n, (tot["DLmr"] + tot["DLmw"]) / n,
            nlines)


def callgrind_table():
    builds = [("this build", bl.BIN)] + ([("B_COLLECTOR", B_COLLECTOR)] if B_COLLECTOR else [])
    t = bl.Table("-o json in the pipeline under callgrind: the stdout output per line "
                 "(emit + flush; load-independent)",
                 ["build", "instructions/line", "L1 misses/line", "LL misses/line", "lines"])
    for name, binary in builds:
        ir, d1, ll, n = callgrind_lines(binary)
        bl.log("callgrind %s: %.0f Ir, %.1f L1 misses, %.2f LL misses per line, %d lines" % (
            name, ir, d1, ll, n))
        t.add(name, "%.0f" % ir, "%.1f" % d1, "%.2f" % ll, str(n))
    return [t]


def callgrind_l2(binary):
    """MODE=callgrind: one run of the L2 collector under callgrind; the
    instructions of tp_pipeline_event per record, and the records."""
    n = int(os.environ.get("N_CALLGRIND", "150000"))
    tmp = tempfile.mkdtemp(prefix="tapio-bench-cgl2-")
    out = os.path.join(tmp, "cg.out")
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
           "--collect-atstart=no", "--toggle-collect=tp_pipeline_event",
           binary, "-o", "none", "--raw-dir", "off", "--metrics-addr", "127.0.0.1:0",
           "--set", "delivery.spool_dir=" + os.path.join(tmp, "spool"),
           "-p", "security", "-k", "categories=process", "--set", "ring.size=%d" % (64 << 20)]
    cmd += bl.sets(rules__aggregate_window=0)
    c = bl.Proc(cmd, ready="ready:", cpu=bl.CONSUMER_CPU, ready_timeout=600)
    try:
        idle = bl.idle_rate(c.pid, 1.0)
        prod = bl.produce(c.pid, 100, count=n)
        bl.wait_idle(c.pid, idle, settle=2, timeout=1200)
    finally:
        c.stop(timeout=600)
    with open(out) as f:
        text = f.read()
    shutil.rmtree(tmp, ignore_errors=True)
    tot = int(re.search(r"^(?:summary|totals): (\d+)", text, re.M).group(1))
    n = prod["emitted"] - prod["full"]  # the ring holds them all: full is 0
    return tot / max(n, 1), n


def callgrind_l2_table():
    builds = [("this build", bl.BIN)] + ([("B_COLLECTOR", B_COLLECTOR)] if B_COLLECTOR else [])
    t = bl.Table("L2 under callgrind: the pipeline's instructions per record (decode, "
                 "enrichment, the security rules; load-independent)",
                 ["build", "instructions/record", "records"])
    for name, binary in builds:
        ir, n = callgrind_l2(binary)
        bl.log("callgrind L2 %s: %.0f instructions per record over %d records" % (name, ir, n))
        t.add(name, "%.0f" % ir, str(n))
    return [t]


def level_diff(res, top, under, k):
    """top - under in CPU ns/event, per round (the rounds both ran)."""
    by = {r["round"]: r["ns"] for r in res.get((under, k), [])}
    return [r["ns"] - by[r["round"]] for r in res.get((top, k), []) if r["round"] in by]


def targets(res, ratio):
    k = max(KS)

    def ns(lv):
        return bl.median(r["ns"] for r in res.get((lv, k), [])) if (lv, k) in res else None
    t = bl.Table("Pipeline targets (K = %d)" % k, ["target", "measured", "result"])
    l2, l2a, js = ns("L2"), ns("L2a"), ns("json")
    r2 = bl.median(ratio.get(("L2", k), []))
    if l2:
        t.add("L2 >= 3,000,000 events/s on one core", "%.2fM/s (%.0f ns/event)" % (1e3 / l2, l2),
              bl.target(l2 <= 333.3, "%.1fx the budget" % (l2 / 333.3) if l2 > 333.3 else ""))
    if r2:
        t.add("L2 <= 4x L0", "%.1fx" % r2, bl.target(r2 <= 4, ""))
    for lv in ("L3", "L3b"):
        raw = [r for r in res.get((lv, k), []) if "raw_ns" in r]
        if not raw:
            continue
        rn = bl.median(r["raw_ns"] for r in raw)
        t.add("raw storage <= 100 ns/event over L2 (raw stage + writer thread)%s" %
              (", " + lv if lv != "L3" else ""),
              "%.0f ns (%.0f + %.0f)" % (rn, bl.median(r["raw_stage_ns"] for r in raw),
                                         bl.median(r["raw_writer_ns"] for r in raw)),
              bl.target(rn <= 100, ""))
    d3 = level_diff(res, "L3", "L2", k)
    if d3:
        t.add("  L3 - L2 (per round; two collectors, noisy)", "%.0f ns" % bl.median(d3), "")
    jc = bl.median(json_cost(res, "json", k).values()) if l2a and js else None
    if jc is not None:
        t.add("-o json <= 200 ns/event (json - L2a)", "%.0f ns" % jc, bl.target(jc <= 200, ""))
    st = [r["outputs_ns"] for r in res.get(("json", k), []) if "outputs_ns" in r]
    if st:
        # Inside the json run alone: immune to L2a and json landing in
        # different speeds of the machine, not to the speed itself.
        t.add("  outputs stage of the json level (its own timer: wall clock, 1 event in 64)",
              "%.0f ns" % bl.median(st), "")
    return t


if __name__ == "__main__":
    sys.exit(bl.main(run))
