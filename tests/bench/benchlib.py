"""Shared pieces of the benchmark suite (tests/bench/suite.py and the
bench_*.py that make it up): where the binaries are, how a consumer is
started and measured, medians and tables.

The machine these run on is shared and noisy: every figure is a median of
ROUNDS rounds, ratios are taken within one round (against a floor or a
peer measured under the same load), and CPU time is read from the
consumer's own threads (schedstat), never from wall clock alone.
"""
import ctypes
import json
import os
import platform
import re
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from kernel_helpers import prog_ids  # noqa: E402  (the kernel tests' own)
SOURCE = os.environ.get("TAPIO_SOURCE_DIR", os.path.abspath(os.path.join(HERE, "../..")))
BUILD = os.environ.get("TAPIO_BUILD_DIR", os.path.join(SOURCE, "build"))
BIN = os.path.join(BUILD, "tapio-collector")
SINK = os.path.join(BUILD, "tapio-sink")
BARE = os.path.join(BUILD, "tests", "bench_bare_consumer")
PRODUCER = os.path.join(BUILD, "tests", "bench_producer")
LOADGEN = os.path.join(BUILD, "bench", "loadgen")
ROUNDS = int(os.environ.get("ROUNDS", "5"))


def rounds(default):
    """Rounds of one benchmark: ROUNDS when set, else its own default."""
    return int(os.environ.get("ROUNDS", default))
LOAD_CPU, CONSUMER_CPU = "0", "1"


def log(msg):
    sys.stderr.write("  %s\n" % msg)
    sys.stderr.flush()


def build(*targets):
    """Build what a benchmark needs (the collector, drivers, loadgen)."""
    subprocess.run(["cmake", "--build", BUILD, "--target"] + list(targets),
                   check=True, stdout=subprocess.DEVNULL)
    build_loadgen()


def build_loadgen():
    """tests/bench/loadgen.c, when its binary is missing or older."""
    os.makedirs(os.path.dirname(LOADGEN), exist_ok=True)
    src = os.path.join(HERE, "loadgen.c")
    if not os.path.exists(LOADGEN) or os.path.getmtime(LOADGEN) < os.path.getmtime(src):
        subprocess.run(["cc", "-O2", "-Wall", "-pthread", "-o", LOADGEN, src], check=True)


def require_root():
    if os.geteuid() != 0:
        print("SKIP: the benchmarks need root (BPF)")
        sys.exit(0)


_keys = None


def has_key(key):
    """Does this collector know a config key (keys come and go as the
    project grows; a benchmark sets the ones it finds)?"""
    global _keys
    if _keys is None:
        out = subprocess.run([BIN, "--print-keys"], capture_output=True, text=True).stdout
        _keys = set(re.findall(r"^\| `([a-z0-9_.]+)`", out, re.M))
    return key in _keys


def sets(**kv):
    """--set flags for the keys this collector knows (dots as __)."""
    out = []
    for k, v in kv.items():
        k = k.replace("__", ".")
        if has_key(k):
            out += ["--set", "%s=%s" % (k, v)]
    return out


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def percentile(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def threads(pid, comm=None):
    """The thread ids of pid (those named comm), [] once it is gone."""
    d = "/proc/%d/task" % pid
    try:
        tasks = os.listdir(d)
    except OSError:
        return []
    if comm is None:
        return [int(t) for t in tasks]
    out = []
    for t in tasks:
        try:
            with open(os.path.join(d, t, "comm")) as f:
                if f.read().strip() == comm:
                    out.append(int(t))
        except OSError:
            pass  # a thread that just ended
    return out


def cpu_ns(pid, comm=None):
    """CPU time of every thread of pid (or of its threads named comm), in
    ns (0 once it is gone)."""
    total = 0
    for t in threads(pid, comm):
        try:
            with open("/proc/%d/task/%d/schedstat" % (pid, t)) as f:
                total += int(f.read().split()[0])
        except OSError:
            pass  # a thread that just ended
    return total


def rss_kb(pid, key="VmRSS"):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


class Proc:
    """A background process whose output lines are kept (bounded) and
    watched for a text; started pinned to a CPU when cpu is given."""

    def __init__(self, cmd, ready=None, cpu=None, stdout=subprocess.PIPE, keep=5000,
                 ready_timeout=180, on_line=None, env=None):
        if cpu is not None:
            cmd = ["taskset", "-c", cpu] + cmd
        self.cmd = cmd
        self.t_start = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE, text=True,
                                     env=env, bufsize=1)
        self.pid = self.proc.pid
        self.out, self.err = [], []
        self.keep = keep
        self.on_line = on_line
        self._cv = threading.Condition()
        self.threads = []
        for f, into in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            if f is None:
                continue
            t = threading.Thread(target=self._read, args=(f, into), daemon=True)
            t.start()
            self.threads.append(t)
        self.t_ready = None
        if ready:
            line = self.wait_for(ready, ready_timeout)
            if line is None:
                self.kill()
                raise RuntimeError("%s did not start: %s" % (cmd[0], "".join(self.err[-8:])))
            self.t_ready = time.monotonic()

    def _read(self, f, into):
        for line in f:
            if self.on_line:
                self.on_line(line, time.time_ns())
            with self._cv:
                # stdout may be a flood of events: keep the first `keep`
                # lines; the log (stderr) is kept whole
                if into is self.err or len(into) < self.keep:
                    into.append(line)
                self._cv.notify_all()

    def wait_for(self, text, timeout=60, start=0):
        """The first line (stdout or stderr) holding text, or None."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while True:
                for lines in (self.err, self.out):
                    for line in lines[start:] if lines is self.err else lines:
                        if text in line:
                            return line
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    return None
                self._cv.wait(min(left, 0.2))

    def count(self, text):
        with self._cv:
            return sum(1 for l in self.err if text in l)

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Signal, wait; returns seconds from the signal to the exit."""
        t0 = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        took = time.monotonic() - t0
        for t in self.threads:
            t.join(10)
        return took

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Collector(Proc):
    """tapio-collector with its own raw dir, spool and metrics port."""

    def __init__(self, *args, cpu=CONSUMER_CPU, raw=False, output="none", stdout=None, binary=None,
                 **kw):
        self.tmp = tempfile.mkdtemp(prefix="tapio-bench-")
        self.raw_dir = os.path.join(self.tmp, "raw") if raw else "off"
        cmd = [binary or BIN, "-o", output, "--raw-dir", self.raw_dir, "--metrics-addr", "127.0.0.1:0",
               "--set", "delivery.spool_dir=" + os.path.join(self.tmp, "spool")] + list(args)
        if stdout is None:
            stdout = subprocess.DEVNULL if output == "none" else subprocess.PIPE
        super().__init__(cmd, ready="ready:", cpu=cpu, stdout=stdout, **kw)
        line = self.wait_for("metrics on http://", 30)
        self.metrics_url = re.search(r"(http://\S+/metrics)", line).group(1) if line else None

    def metrics(self):
        """{name or name{labels}: value} from /metrics."""
        out = {}
        with urllib.request.urlopen(self.metrics_url, timeout=30) as r:
            for line in r.read().decode().splitlines():
                if not line or line[0] == "#":
                    continue
                k, _, v = line.rpartition(" ")
                try:
                    out[k] = float(v)
                except ValueError:
                    pass
        return out

    def stop(self, *a, keep=False, **kw):
        """Stop; keep=True leaves its raw dir to read (then cleanup())."""
        took = super().stop(*a, **kw)
        if not keep:
            self.cleanup()
        return took

    def cleanup(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


def msum(m, name):
    """Sum of a metric over its labels."""
    return sum(v for k, v in m.items() if k == name or k.startswith(name + "{"))


def wait_idle(pid, idle_rate, settle=0.3, timeout=60):
    """Wait until the process uses no more CPU than its idle rate (it has
    drained what it was given). Returns the CPU time (ns) and the time
    (monotonic) at that point."""
    deadline = time.monotonic() + timeout
    prev, tprev = cpu_ns(pid), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(settle)
        cur, tcur = cpu_ns(pid), time.monotonic()
        if cur - prev <= max(idle_rate * (tcur - tprev) * 3, 2e6 * (tcur - tprev) / settle):
            return prev, tprev
        prev, tprev = cur, tcur
    return prev, tprev


def idle_rate(pid, secs=1.0):
    """CPU ns per second the process burns with nothing to do (timers)."""
    t0, w0 = cpu_ns(pid), time.monotonic()
    time.sleep(secs)
    return (cpu_ns(pid) - t0) / (time.monotonic() - w0)


def produce(pid, k, count=None, seconds=None, rate=None, mix="node"):
    """Run the test-only BPF producer into pid's ring; returns its counts."""
    cmd = ["taskset", "-c", LOAD_CPU, PRODUCER, str(pid), str(k)]
    cmd += ["--count", str(count)] if count else ["--seconds", str(seconds)]
    if rate:
        cmd += ["--rate", str(int(rate))]
    cmd += ["--mix", mix]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError("producer failed: %s" % out.stderr.strip())
    w = out.stdout.split()
    return {"runs": int(w[1]), "emitted": int(w[3]), "full": int(w[5]), "ns": int(w[7])}


def loadgen(mode, iters, cpu=LOAD_CPU):
    """ns per iteration of a loadgen mode, and its pid."""
    p = subprocess.Popen(["taskset", "-c", cpu, LOADGEN, mode, str(iters)],
                         stdout=subprocess.PIPE, text=True)
    out, _ = p.communicate()
    return float(out.split()[1]), p.pid


_NR_BPF = {"x86_64": 321, "aarch64": 280}.get(platform.machine(), 321)


def enable_bpf_stats():
    """BPF_ENABLE_STATS(BPF_STATS_RUN_TIME): on while the descriptor lives."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    attr = ctypes.create_string_buffer(struct.pack("I", 0), 128)
    fd = libc.syscall(_NR_BPF, 32, attr, 128)
    return fd if fd >= 0 else None


def prog_stats(pid):
    """{name: (run_time_ns, run_cnt)} of the BPF programs a process holds."""
    ids = prog_ids(pid)
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True).stdout
    return {p["name"]: (p.get("run_time_ns", 0), p.get("run_cnt", 0)) for p in json.loads(out)
            if p["id"] in ids}


def fmt(v, spec="%.0f"):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    return spec % v


class Table:
    """A markdown table, printed as it is and kept for BENCHMARKS.md."""

    def __init__(self, title, columns, note=""):
        self.title, self.columns, self.rows, self.note = title, columns, [], note

    def add(self, *cells):
        self.rows.append([c if isinstance(c, str) else fmt(c) for c in cells])

    def markdown(self):
        out = ["| " + " | ".join(self.columns) + " |",
               "|" + "|".join("---" for _ in self.columns) + "|"]
        out += ["| " + " | ".join(r) + " |" for r in self.rows]
        return "\n".join(out)

    def show(self):
        print("\n### %s\n" % self.title)
        print(self.markdown())
        if self.note:
            print("\n" + self.note)
        sys.stdout.flush()


def target(ok, text=""):
    """The result cell of a target row: met or MISSED, and why when given."""
    return ("met" if ok else "MISSED") + (": " + text if text else "")


def main(run):
    """A benchmark run on its own: print its tables."""
    for t in run():
        t.show()
    return 0
