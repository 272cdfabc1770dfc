#!/usr/bin/python3
"""Benchmark 7: start and stop time with every family.

  start   from exec to the " ready: " log line (programs loaded and
          attached, rules loaded and tested, outputs open)
  cpu     the CPU time (user + system, every thread, ended ones too) the
          process used until ready: the figure a loaded machine changes
          least (the wall-clock start is mostly waiting for a CPU there)
  bpf     the loader's own "eBPF: ... loaded and attached in X ms on N
          threads (Y ms of CPU ...; Z instructions verified)" line: the
          kernel's verifier, mostly
  insns   Z above: the instructions the verifier processed, all programs
          (bpf_prog_info.verified_insns, kernel 5.16+): a figure the load
          does not change, so a regression in the BPF programs shows here
          even where the wall clock is noise
  stop    from SIGTERM to the process's exit (the BPF programs' own release
          finishes later, in a child that outlives it)
  lost    events decoded minus events stored raw, from the collector's
          "summary (exit, ...): N events, ..., S stored raw" line: raw
          storage takes every decoded event, so the final flush must keep
          them all (0)

tapio-collector -p PRESET, raw storage on, -o none; every family. The
collector is not pinned to a CPU here (it loads the families on one thread
per CPU). Medians and worst of ROUNDS runs per preset; the load average is
printed with each round.

  tests/bench/suite.py build startstop  (ROUNDS=5)

A/B in the same rounds: VARIANTS="LABEL[:bin=PATH][:NAME=VALUE]...;..."
runs each variant once per preset per round, in turn (bin: another build
of the collector; NAME=VALUE: an environment variable for it), e.g.
  VARIANTS="main:bin=/tmp/main-build/tapio-collector;this" \
  VARIANTS="typed;probe-reads:TAPIO_TEST_NO_TYPED_BPF=1"
"""
import os
import re
import sys

import benchlib as bl

PRESETS = os.environ.get("PRESETS", "default,security").split(",")
TICK = os.sysconf("SC_CLK_TCK")


def parse_variants(text):
    """[(label, binary or None, env or None)] from VARIANTS (see above)."""
    out = []
    for item in filter(None, (v.strip() for v in text.split(";"))):
        label, *parts = item.split(":")
        binary, env = None, None
        for part in parts:
            name, eq, value = part.partition("=")
            if not eq or not name:
                raise SystemExit("VARIANTS: %r in %r: expected bin=PATH or NAME=VALUE" % (part, item))
            if name == "bin":
                if not os.access(value, os.X_OK):
                    raise SystemExit("VARIANTS: %s (variant %s) is not an executable" % (value, label))
                binary = value
            else:
                env = env or dict(os.environ)
                env[name] = value
        out.append((label, binary, env))
    if len({v[0] for v in out}) != len(out):
        raise SystemExit("VARIANTS: two variants have the same label: %s" % text)
    return out or [("", None, None)]


VARIANTS = parse_variants(os.environ.get("VARIANTS", ""))


def cpu_s(pid):
    """User + system seconds of a process, its ended threads included."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def exit_counts(lines):
    """(events decoded, events stored raw) from the exit summary line
    ("summary (exit, T s): N events, ..., S stored raw; lost: ..."), or
    None when the collector did not print it."""
    for line in reversed(lines):
        m = re.search(r"summary \(exit, [0-9.]+ s\): (\d+) events, .*?(?:, (\d+) stored raw)?; lost:", line)
        if m:
            if m.group(2) is None:
                raise RuntimeError("the exit summary has no raw storage count (raw storage off?): %s" % line)
            return int(m.group(1)), int(m.group(2))
    return None


def run():
    bl.require_root()
    bl.build("tapio-collector")
    rows = [(p, v) for p in PRESETS for v in VARIANTS]
    res = {(p, v[0]): [] for p, v in rows}
    for rnd in range(bl.ROUNDS):
        for preset, (label, binary, env) in rows:
            name = preset + (" " + label if label else "")
            load = os.getloadavg()[0]
            c = bl.Collector("-p", preset, raw=True, cpu=None, binary=binary, env=env)
            start = c.t_ready - c.t_start
            cpu = cpu_s(c.pid)
            line = c.wait_for("ready:") or ""
            progs = line.split("ready:")[-1].split(" programs")[0].strip()
            m = re.search(r"eBPF: .* in (\d+) ms on (\d+) threads \((\d+) ms of CPU",
                          c.wait_for("probe families loaded") or "")
            bpf = (int(m.group(1)) / 1e3, int(m.group(3)) / 1e3, int(m.group(2))) if m else (None, None, None)
            mi = re.search(r"; (\d+) instructions verified\)", c.wait_for("probe families loaded") or "")
            insns = int(mi.group(1)) if mi else None
            stop = c.stop()
            counts = exit_counts(c.err)
            if counts is None:
                raise RuntimeError("no exit summary line from the collector (last lines: %s)" % c.err[-3:])
            lost = counts[0] - counts[1]
            res[(preset, label)].append((start, stop, progs, cpu, bpf, lost, load, insns))
            bl.log("round %d %s (load %.1f): start %.2f s (%.2f s of CPU; eBPF %s s, %s s of CPU, %s threads; "
                   "%s programs, %s instructions verified), stop %.2f s, lost at stop %s" % (
                       rnd + 1, name, load, start, cpu, bl.fmt(bpf[0], "%.2f"), bl.fmt(bpf[1], "%.2f"),
                       bl.fmt(bpf[2], "%d"), progs, bl.fmt(insns, "%d"), stop, bl.fmt(lost)))
    t = bl.Table("Start and stop, every family", [
        "preset", "programs", "start median s", "start worst s", "start CPU median s",
        "eBPF load+attach median s", "eBPF CPU median s", "instructions verified (median)", "stop median s", "stop worst s",
        "lost at stop (worst)", "load average"],
        note="start = exec to the ready line, wall clock; CPU = user + system time of the "
             "process until ready (every thread). eBPF = the loader's own figures (one thread "
             "per CPU). instructions verified = bpf_prog_info.verified_insns summed over the "
             "loaded programs. lost = events decoded - events stored raw (the exit summary line).")
    for (p, label), rs in res.items():
        t.add(p + (" " + label if label else ""), rs[0][2], bl.fmt(bl.median(r[0] for r in rs), "%.2f"),
              bl.fmt(max(r[0] for r in rs), "%.2f"), bl.fmt(bl.median(r[3] for r in rs), "%.2f"),
              bl.fmt(bl.median(r[4][0] for r in rs), "%.2f"), bl.fmt(bl.median(r[4][1] for r in rs), "%.2f"),
              bl.fmt(bl.median(r[7] for r in rs), "%d"),
              bl.fmt(bl.median(r[1] for r in rs), "%.2f"), bl.fmt(max(r[1] for r in rs), "%.2f"),
              bl.fmt(max((r[5] for r in rs if r[5] is not None), default=None)),
              "%.1f-%.1f" % (min(r[6] for r in rs), max(r[6] for r in rs)))
    tgt = bl.Table("Start and stop targets", ["target", "measured", "result"])
    # The targets are this build's, as it is (no bin=, no variables); all
    # variants when every one has some.
    plain = {v[0] for v in VARIANTS if v[1] is None and v[2] is None}
    mine = [rs for (p, label), rs in res.items() if label in plain] or list(res.values())
    s = bl.median(r[0] for rs in mine for r in rs)
    e = bl.median(r[1] for rs in mine for r in rs)
    cpu = bl.median(r[3] for rs in mine for r in rs)
    tgt.add("start < 1 s with every family", "%.2f s (%.2f s of CPU on %d CPUs)" % (s, cpu, os.cpu_count()),
            bl.target(s < 1, "" if s < 1 else "by %.2f s" % (s - 1)))
    tgt.add("stop < 0.5 s with every family", "%.2f s" % e,
            bl.target(e < 0.5, "" if e < 0.5 else "by %.2f s" % (e - 0.5)))
    return [t, tgt]


if __name__ == "__main__":
    sys.exit(bl.main(run))
