"""Helpers for integration tests: start the real collector, read its JSON
events and its log, and wait for conditions with a deadline.

Tests run as root against the real kernel. Other processes run on the
machine too, so every assertion filters by the PIDs the test spawned.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid

BIN = os.environ.get("TAPIO_BIN", os.path.join(os.path.dirname(__file__), "../../build/tapio-collector"))
BIN_ASAN = os.environ.get("TAPIO_BIN_ASAN", BIN + "-asan")
SOURCE_DIR = os.environ.get("TAPIO_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../.."))


class TestFailure(AssertionError):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def unique(prefix="tapio-test"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


# Keys the enrichment stage adds to every event (src/events/proc_ctx.h): derived
# from the stream and this machine, never stored raw.
ENRICHMENT_KEYS = ("exe", "parent", "ancestors", "container", "k8s")


def kernel_fields(e):
    """An event as the kernel recorded it (what raw storage keeps): without
    what enrichment added. An exec event's argv is its own field; on any
    other event argv comes from the process table."""
    out = {k: v for k, v in e.items() if k not in ENRICHMENT_KEYS}
    if e.get("type") != "process.exec":
        out.pop("argv", None)
        out.pop("argv_truncated", None)
    return out


def require_root():
    if os.geteuid() != 0:
        print("SKIP: integration tests need root")
        sys.exit(77)


class Collector:
    """A running tapio-collector with -o json; stdout lines are parsed as
    they arrive, stderr lines are kept for log assertions."""

    def __init__(self, *args, binary=None, env=None, output="json", ready=True, timeout=60,
                 wrap=(), threshold=0, aggregate=False, log_level="debug"):
        """threshold: rules.importance_threshold for the run. Tests look at
        the events they made, so by default every event reaches the outputs
        as with -a but through sampling and the Lua filters (threshold 0);
        None keeps the collector's own (0.7: alerts and important events).
        aggregate: False (the default) raises every rule match as its own
        alert at once (rules.aggregate_window=0); True keeps the
        collector's aggregation (a burst is one alert, 2 s late).
        log_level: debug by default, for the full 'stats (exit):' line;
        None keeps the collector's own (info)."""
        self.binary = binary or BIN
        # Never the default /var/lib/tapio/raw: other runs on this machine
        # would share (and lock) it. A test that cares passes its own.
        self.raw_dir = None
        if not any(a == "--raw-dir" or str(a).startswith("--raw-dir=") for a in args):
            self.raw_dir = tempfile.mkdtemp(prefix="tapio-raw-")
            args = ("--raw-dir", self.raw_dir) + tuple(args)
        self.output = output
        # wrap: a command the collector runs under (setpriv ... for a
        # non-root run); the collector's pid is then the wrapper's (it execs).
        cmd = list(wrap) + [self.binary, "-o", output] + list(args)
        # Never the default metrics port: other collectors (and other
        # engineers' tests) run on this machine at the same time.
        if not any(a == "--metrics-addr" or str(a).startswith("--metrics-addr=") for a in args):
            cmd += ["--metrics-addr", "127.0.0.1:0"]
        # Nor the machine's own /etc/tapio/rules.d (exceptions would change
        # what the shipped rules raise). A test that cares sets its own.
        if not any("rules.user_dir" in str(a) for a in args):
            cmd += ["--set", "rules.user_dir=off"]
        if threshold is not None:
            cmd += ["--set", "rules.importance_threshold=%s" % threshold]
        if not aggregate:
            cmd += ["--set", "rules.aggregate_window=0"]
        e = dict(os.environ)
        if env:
            e.update(env)
        if log_level is not None and "--log-level" not in args and "TAPIO_LOG_LEVEL" not in e:
            cmd += ["--log-level", log_level]
        # Called while a wait is pending, to make the kernel events it may
        # depend on: a fresh CI machine is quiet, and nothing else execs.
        self.poke = None
        self.events = []
        self.lines = []
        self.log = []
        self.bad_lines = []
        self._cv = threading.Condition()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e)
        self._t_out = threading.Thread(target=self._read_stdout, daemon=True)
        self._t_err = threading.Thread(target=self._read_stderr, daemon=True)
        self._t_out.start()
        self._t_err.start()
        if ready:
            self.wait_log("ready:", timeout=timeout)

    def _read_stdout(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._cv:
                self.lines.append(line)
                if self.output != "json":
                    pass  # only JSON output must be one object per line
                else:
                    try:
                        self.events.append(json.loads(line))
                    except ValueError:
                        self.bad_lines.append(line)
                self._cv.notify_all()

    def _read_stderr(self):
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            sys.stderr.write("  [collector] %s\n" % line)
            with self._cv:
                self.log.append(line)
                self._cv.notify_all()

    def wait_until(self, pred, timeout=20, what="condition"):
        deadline = time.monotonic() + timeout
        while True:
            with self._cv:
                r = pred()
                if r:
                    return r
                if self.proc.poll() is not None and not self._t_out.is_alive():
                    raise TestFailure("collector exited (rc=%s) while waiting for %s" % (self.proc.returncode, what))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TestFailure("timed out after %ss waiting for %s" % (timeout, what))
                self._cv.wait(min(left, 0.3 if self.poke else 0.5))
            if self.poke:
                self.poke()

    def wait_log(self, text, timeout=30):
        return self.wait_until(lambda: next((l for l in self.log if text in l), None), timeout,
                               "log line containing %r" % text)

    def find(self, **match):
        """Events whose fields equal every given value."""
        with self._cv:
            return [e for e in self.events if all(e.get(k) == v for k, v in match.items())]

    def wait_event(self, timeout=20, **match):
        return self.wait_until(lambda: next(iter(self.find(**match)), None), timeout,
                               "event %r" % match)

    def metrics_base(self, timeout=30):
        """http://HOST:PORT of the collector's metrics endpoint, from its log."""
        line = self.wait_log("metrics on http://", timeout)
        return re.search(r"(http://\S+)/metrics", line).group(1)

    def http_get(self, path, headers=None, timeout=10):
        """(status, headers, body text) of GET path on the metrics endpoint."""
        return http_get(self.metrics_base() + path, headers, timeout)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            raise TestFailure("collector did not stop within %ss of SIGTERM" % timeout)
        self._t_out.join(10)
        self._t_err.join(10)
        check(not self.bad_lines, "stdout had non-JSON lines: %r" % self.bad_lines[:3])
        return rc

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.raw_dir:
            shutil.rmtree(self.raw_dir, ignore_errors=True)


_no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_get(url, headers=None, timeout=10):
    """(status, headers, body text) of a GET, without any proxy; HTTP errors
    are returned, not raised."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with _no_proxy.open(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode("utf-8")


class TempDir:
    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="tapio-test-")
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)


def run_tests(tests):
    """Run test functions in order; print a summary; exit non-zero on failure."""
    failed = 0
    for t in tests:
        name = t.__name__
        start = time.monotonic()
        try:
            t()
            print("PASS %s (%.1fs)" % (name, time.monotonic() - start))
        except Exception as e:  # report every failure, keep going
            failed += 1
            print("FAIL %s: %s: %s" % (name, type(e).__name__, e))
    sys.stdout.flush()
    sys.exit(1 if failed else 0)
