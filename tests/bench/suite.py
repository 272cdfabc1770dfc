#!/usr/bin/python3
"""The benchmark suite: `make bench` runs it.

  tests/bench/suite.py [BUILD_DIR] [NAME...]     NAME: pipeline overhead zerodrop
                                                 memory reload latency startstop

Runs each benchmark (tests/bench/bench_<name>.py; each says what it
measures and how), prints its tables as they come, and writes
BENCHMARKS.md at the top of the source tree: the machine, kernel, command,
date, every table and a summary of the targets. ROUNDS=N sets the rounds
of every benchmark (default 5). A benchmark that fails is reported and the
others still run; the exit status is then non-zero.

Take `flock /work/bench.lock` (or run nothing else) around it: two
benchmarks at once measure each other.
"""
import datetime
import importlib
import os
import platform
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
if len(sys.argv) > 1 and os.path.isdir(sys.argv[1]):
    os.environ["TAPIO_BUILD_DIR"] = os.path.abspath(sys.argv[1])
    names = sys.argv[2:]
else:
    names = sys.argv[1:]
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import benchlib as bl  # noqa: E402 (after TAPIO_BUILD_DIR is set)

ORDER = [
    ("pipeline", "1. Pipeline throughput"),
    ("overhead", "2. Overhead on real work"),
    ("zerodrop", "3. Zero-drop rate"),
    ("memory", "4. Memory"),
    ("reload", "5. Reload"),
    ("latency", "6. Latency"),
    ("startstop", "7. Start and stop"),
]

# What the benchmarks read from the environment: the ones set go into the
# command written to BENCHMARKS.md.
KNOBS = ["ROUNDS", "KS", "LEVELS", "SECONDS_PER_RUN", "MODES", "TOOLS", "OPEN_ITERS",
         "EXEC_ITERS", "STEP_SECONDS", "START_RATE", "MAX_RATE", "STEPS", "EVENTS", "RATE",
         "PROCS", "PRESETS", "RELOADS", "RELOADS_UNDER", "LOAD_RATE", "SIZES", "OPEN_PAIRS",
         "EXEC_PAIRS", "SETTLE_S"]


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            mem = int(f.readline().split()[1]) / (1 << 20)
    except OSError:
        mem = 0
    return "%s, %d CPUs, %.0f GiB memory" % (model, os.cpu_count(), mem)


def commit():
    r = subprocess.run(["git", "-C", bl.SOURCE, "describe", "--always", "--dirty"],
                       capture_output=True, text=True)
    return r.stdout.strip() or "unknown"


def load():
    return "%.1f / %.1f / %.1f" % os.getloadavg()


def description(mod):
    """The module docstring without its title line and its usage line, as
    markdown: plain paragraphs joined, indented ones (lists of levels,
    modes) kept as they are."""
    paras = (mod.__doc__ or "").strip().split("\n\n")[1:]
    if paras and paras[-1].strip().startswith("tests/bench/"):
        paras = paras[:-1]
    out = []
    for p in paras:
        if p.startswith("  "):
            out.append("```text\n%s\n```" % p.rstrip())
        else:
            out.append(" ".join(p.split()))
    return "\n\n".join(out)


def main():
    bl.require_root()
    todo = [(n, t) for n, t in ORDER if not names or n in names]
    started = datetime.datetime.now(datetime.timezone.utc)
    head = {"load_start": load(), "t0": time.monotonic()}
    print("tapio-collector benchmarks: %s; kernel %s; load average %s" % (
        machine(), platform.release(), head["load_start"]))
    results, failed = [], []
    for name, title in todo:
        print("\n## %s\n" % title)
        sys.stdout.flush()
        mod = importlib.import_module("bench_" + name)
        t0 = time.monotonic()
        try:
            tables = mod.run()
        except Exception as e:  # report, and go on with the others
            traceback.print_exc()
            failed.append(name)
            results.append((title, description(mod), [], "failed: %s" % e, 0))
            continue
        for t in tables:
            t.show()
        results.append((title, description(mod), tables, None, time.monotonic() - t0))
    write(results, started, head, todo)
    return 1 if failed else 0


def write(results, started, head, todo):
    cmd = "make bench" if len(todo) == len(ORDER) else "tests/bench/suite.py build " + " ".join(
        n for n, _ in todo)
    env = " ".join("%s=%s" % (k, os.environ[k]) for k in KNOBS if os.environ.get(k))
    if env:
        cmd = env + " " + cmd
    out = ["# Benchmarks", "",
           "Written by `make bench` (tests/bench/suite.py): the latest run, do not edit by hand.",
           "What each benchmark does and how it measures is in its file, "
           "tests/bench/bench_<name>.py.", "",
           "| | |", "|---|---|",
           "| date | %s |" % started.strftime("%Y-%m-%d %H:%M UTC"),
           "| command | `%s` |" % cmd,
           "| commit | %s |" % commit(),
           "| machine | %s |" % machine(),
           "| kernel | %s |" % platform.release(),
           "| load average (1/5/15 min) | %s at the start, %s at the end |" % (head["load_start"],
                                                                            load()),
           "| duration | %.0f min |" % ((time.monotonic() - head["t0"]) / 60), "",
           "Every figure is a median of several rounds; ratios are taken within each round "
           "against a floor or peer measured under the same load. On a busy machine the "
           "CPU-time figures (ns/event) hold better than wall-clock ones.", ""]
    summary = []
    for title, desc, tables, err, secs in results:
        for t in tables:
            if t.columns and t.columns[-1] == "result":
                summary += t.rows
    if summary:
        out += ["## Targets", "", "| target | measured | result |", "|---|---|---|"]
        out += ["| " + " | ".join(r) + " |" for r in summary]
        out.append("")
    for title, desc, tables, err, secs in results:
        out += ["## " + title, ""]
        if desc:
            out += [desc, ""]
        if err:
            out += ["**%s**" % err, ""]
        for t in tables:
            out += ["### " + t.title, "", t.markdown(), ""]
            if t.note:
                out += [t.note, ""]
    path = os.path.join(bl.SOURCE, "BENCHMARKS.md")
    with open(path, "w") as f:
        f.write("\n".join(out))
    print("\nwrote %s" % path)


if __name__ == "__main__":
    sys.exit(main())
