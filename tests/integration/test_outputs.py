"""The file and webhook outputs: at least once across an outage, every drop
counted, a bad destination refused at start with the key to change.

- file.path: JSON lines in the -o json shape, rotated by size, the oldest
  beyond file.max_backups deleted, no line split across files.
- webhook.url: Falco's alert JSON, posted to a loopback HTTP receiver this
  test runs (as falcosidekick would receive it); the receiver goes away
  and comes back on the same port, and every alert arrives.
"""
import json
import os
import socket
import re
import subprocess
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tapio import BIN, Collector, TempDir, check, require_root, run_tests, unique

MARK_RULE = '''
rule {
  name = "test_marker_exec",
  desc = "a marker command ran",
  events = { "process.exec" },
  severity = "warning",
  tags = { "test", "mitre:T0000" },
  when = function(e) return e.argv[2] ~= nil and tapio.startswith(e.argv[2], "tapio-mark-") end,
  output = "marker ${argv} by ${comm}",
  tests = {
    { event = { type = "process.exec", argv = { "true", "tapio-mark-x" } }, expect = true },
    { event = { type = "process.exec", argv = { "true" } }, expect = false },
  },
}
'''
FALCO_KEYS = {"output", "priority", "rule", "time", "output_fields", "tags", "hostname", "source"}
FALCO_PRIORITIES = {"Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug"}


def write_rule(tmp):
    d = os.path.join(tmp, "rules")
    os.makedirs(d, mode=0o755)
    p = os.path.join(d, "mark.lua")
    with open(p, "w") as f:
        f.write(MARK_RULE)
    os.chmod(p, 0o644)
    return d


def mark(prefix, i):
    m = "tapio-mark-%s-%d" % (prefix, i)
    subprocess.run(["/bin/true", m])
    return m


def exit_summary(c, output):
    line = next((l for l in c.log if "%s: delivered" % output in l), None)
    check(line, "no exit summary of the %s output" % output)
    m = re.search(r"delivered (\d+) events, dropped (\d+)", line)
    return int(m.group(1)), int(m.group(2)), line


def test_file_rotation_and_retention():
    with TempDir() as tmp:
        path = os.path.join(tmp, "events.jsonl")
        with Collector("-a", "-k", "categories=process", "--set", "file.path=" + path,
                       "--set", "file.max_size=16K", "--set", "file.max_backups=2",
                       "--set", "delivery.spool_dir=off", timeout=180) as c:
            ms = [mark("file", i) for i in range(150)]
            c.wait_until(lambda: sum(1 for e in c.events if e.get("argv", [None, None])[1:2] == [ms[-1]]),
                         timeout=30, what="the last marker on stdout")
            check(c.stop() == 0, "collector failed")
            delivered, dropped, line = exit_summary(c, "file")
        names = sorted(os.listdir(tmp))
        check("events.jsonl.1" in names and "events.jsonl.2" in names, "no rotation: %r" % names)
        check("events.jsonl.3" not in names, "a backup beyond file.max_backups was kept: %r" % names)
        lines = []
        for n in ("events.jsonl.2", "events.jsonl.1", "events.jsonl"):
            data = open(os.path.join(tmp, n), "rb").read()
            check(len(data) <= 16 * 1024 or data.count(b"\n") == 1, "%s is %d bytes, over max_size" % (n, len(data)))
            check(data.endswith(b"\n"), "%s ends in the middle of a line" % n)
            lines += data.decode().splitlines()
        events = [json.loads(l) for l in lines]  # every line whole JSON
        # The files hold the newest events, exactly as stdout printed them.
        check(c.lines[-len(lines):] == lines, "the file's lines are not stdout's last %d lines" % len(lines))
        check(delivered == len(c.lines) and dropped == 0,
              "delivered %d of %d stdout lines, dropped %d: %s" % (delivered, len(c.lines), dropped, line))
        check(events[-1]["type"].startswith("process."), events[-1])


def test_file_bad_destination():
    r = subprocess.run([BIN, "-o", "none", "--raw-dir", "off", "--metrics-addr", "off",
                        "--set", "file.path=/nonexistent-tapio/dir/events.jsonl", "--duration", "1s"],
                       capture_output=True, text=True, timeout=120)
    check(r.returncode != 0, "a file output in a missing directory started")
    check("file.path: cannot open /nonexistent-tapio/dir/events.jsonl for writing: No such file or directory"
          in r.stderr, "unclear error: %r" % r.stderr[-500:])


class Receiver:
    """A Falco webhook receiver (what falcosidekick listens with): POST /
    with one JSON alert per request, HTTP/1.1 keep-alive. fail(n) answers
    the next n requests with 503."""

    def __init__(self, port=0):
        self.alerts, self.bad = [], []
        self.lock = threading.Lock()
        self.fail_left = 0
        self.reject = set()
        self.down = False
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if outer.down:  # gone: a kept-alive connection breaks, no answer
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                code = 200
                with outer.lock:
                    try:
                        a = json.loads(body)
                    except ValueError:
                        outer.bad.append(body)
                        a = None
                    if outer.fail_left:
                        outer.fail_left -= 1
                        code = 503
                    elif a and any(m in a.get("output", "") for m in outer.reject):
                        code = 400
                    elif a is not None:
                        outer.alerts.append(a)
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self.server = ThreadingHTTPServer(("127.0.0.1", port), H)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def outputs(self):
        with self.lock:
            return [a["output"] for a in self.alerts]

    def stop(self):
        self.down = True
        self.server.shutdown()
        self.server.server_close()


def check_falco_shape(a):
    check(set(a) == FALCO_KEYS, "keys %r are not Falco's %r" % (sorted(a), sorted(FALCO_KEYS)))
    check(a["priority"] in FALCO_PRIORITIES, "priority %r" % a["priority"])
    check(a["source"] == "syscall" and a["hostname"] == os.uname().nodename, a)
    check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", a["time"]), "time %r" % a["time"])
    datetime.strptime(a["time"][:26] + "Z", "%Y-%m-%dT%H:%M:%S.%fZ")
    check(isinstance(a["tags"], list) and all(isinstance(t, str) for t in a["tags"]), a["tags"])
    of = a["output_fields"]
    check(isinstance(of, dict) and isinstance(of.get("evt.time"), int) and of.get("proc.name"), of)
    check(a["output"].startswith(a["time"][11:29] + ": " + a["priority"] + " "), "output %r" % a["output"])


def test_webhook_falco_shape_and_outage():
    rx = Receiver()
    port = rx.port
    with TempDir() as tmp:
        rules = write_rule(tmp)
        env = {"TAPIO_BACKOFF_MIN": "100ms", "TAPIO_BACKOFF_MAX": "500ms", "TAPIO_DRAIN_TIMEOUT": "10s"}
        with Collector("-R", rules, "-k", "categories=process", "--set",
                       "webhook.url=http://127.0.0.1:%d/" % port, "--set", "delivery.spool_dir=off",
                       env=env, output="none", timeout=180) as c:
            first = [mark("up", i) for i in range(5)]
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not all(any(m in o for o in rx.outputs()) for m in first):
                time.sleep(0.2)
            check(all(any(m in o for o in rx.outputs()) for m in first), "alerts before the outage missing")
            for a in rx.alerts:
                check_falco_shape(a)
            a = rx.alerts[0]
            check(a["rule"] == "test_marker_exec" and a["priority"] == "Warning", a)
            check(a["tags"] == ["test", "mitre:T0000"], a["tags"])
            check(a["output_fields"]["evt.type"] == "process.exec" and "proc.cmdline" in a["output_fields"], a)

            # Outage: the receiver goes away; alerts keep coming.
            rx.stop()
            during = [mark("down", i) for i in range(5)]
            c.wait_log("webhook: ", timeout=30)
            # Back on the same port, answering 503 twice first.
            rx2 = Receiver(port)
            rx2.fail_left = 2
            rx2.reject.add("tapio-mark-refused")
            refused = mark("refused", 0)
            after = [mark("after", i) for i in range(3)]
            deadline = time.monotonic() + 40
            want = during + after
            while time.monotonic() < deadline and not all(any(m in o for o in rx2.outputs()) for m in want):
                time.sleep(0.2)
            missing = [m for m in want if not any(m in o for o in rx2.outputs())]
            check(not missing, "alerts lost across the outage: %r" % missing)
            check(c.stop() == 0, "collector failed")
            delivered, dropped, line = exit_summary(c, "webhook")
            check(dropped == 1 and "rejected 1" in line, "the refused alert was not counted once: %s" % line)
            check(any("delivering again" in l for l in c.log), "no log line when delivery resumed")
            check(not rx2.bad, "a body that is not JSON: %r" % rx2.bad[:1])
            rx2.stop()
            check(not any(refused in o for o in rx2.outputs()), "the refused alert was stored")


def unix_receiver(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(0.2)
    return s


def drain(sock, got, most=2.0):
    """What the socket holds, until a 0.2 s pause or for `most` seconds (a
    busy machine may never pause)."""
    end = time.monotonic() + most
    while time.monotonic() < end:
        try:
            got.append(sock.recv(70000).decode())
        except socket.timeout:
            return


def test_syslog_unix_outage():
    """syslog.address=unix:PATH (as /dev/log): RFC 5424 messages carrying
    the JSON line; the daemon goes away and comes back: nothing lost."""
    with TempDir() as tmp:
        rules = write_rule(tmp)
        path = os.path.join(tmp, "log.sock")
        rx = unix_receiver(path)
        got = []
        env = {"TAPIO_BACKOFF_MIN": "100ms", "TAPIO_BACKOFF_MAX": "300ms"}
        # The collector's own threshold: alerts (and the rare important
        # event) to syslog, not every exec of a busy machine.
        with Collector("-R", rules, "-k", "categories=process", "--set", "syslog.address=unix:" + path,
                       "--set", "delivery.spool_dir=off", env=env, output="none", timeout=180,
                       threshold=None) as c:
            first = mark("syslog", 0)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not any(first in g for g in got):
                drain(rx, got)
            msg = next(g for g in got if first in g)
            m = re.match(r"<(\d+)>1 (\S+) (\S+) tapio-collector (\d+) alert - (\{.*\})$", msg)
            check(m, "not an RFC 5424 alert message: %r" % msg[:300])
            check(int(m.group(1)) == 3 * 8 + 4, "priority %s is not daemon.warning" % m.group(1))
            e = json.loads(m.group(5))
            check(e["rule"] == "test_marker_exec" and e["argv"][1] == first, e)
            # The daemon stops (socket gone), alerts keep coming, it comes back.
            rx.close()
            os.unlink(path)
            during = [mark("syslog-down", i) for i in range(3)]
            c.wait_log("syslog: ", timeout=30)
            rx = unix_receiver(path)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not all(any(d in g for g in got) for d in during):
                drain(rx, got)
            missing = [d for d in during if not any(d in g for g in got)]
            check(not missing, "syslog messages lost across the outage: %r" % missing)
            # Keep reading while it stops.
            stop = threading.Event()
            reader = threading.Thread(target=lambda: [drain(rx, got) for _ in iter(stop.is_set, True)],
                                      daemon=True)
            reader.start()
            try:
                check(c.stop() == 0, "collector failed")
            finally:
                stop.set()
                reader.join(5)
            delivered, dropped, line = exit_summary(c, "syslog")
            check(dropped == 0, line)
        rx.close()
    r = subprocess.run([BIN, "-o", "none", "--raw-dir", "off", "--metrics-addr", "off",
                        "--set", "syslog.address=/dev/log", "--duration", "1s"],
                       capture_output=True, text=True, timeout=120)
    check(r.returncode != 0 and "syslog.address: expected unix:/PATH" in r.stderr,
          "unclear error for a bad syslog.address: %r" % r.stderr[-400:])


def test_webhook_bad_url():
    for url, text in (("https://example.invalid/", "https is not supported"),
                      ("ftp://x/", "expected http://HOST[:PORT][/PATH]"),
                      ("http://127.0.0.1:99999/", "bad port")):
        r = subprocess.run([BIN, "-o", "none", "--raw-dir", "off", "--metrics-addr", "off",
                            "--set", "webhook.url=" + url, "--duration", "1s"],
                           capture_output=True, text=True, timeout=120)
        check(r.returncode != 0, "webhook.url=%s started" % url)
        check("webhook.url" in r.stderr and text in r.stderr, "unclear error for %s: %r" % (url, r.stderr[-400:]))


if __name__ == "__main__":
    require_root()
    run_tests([test_file_bad_destination, test_webhook_bad_url, test_file_rotation_and_retention,
               test_webhook_falco_shape_and_outage, test_syslog_unix_outage])
