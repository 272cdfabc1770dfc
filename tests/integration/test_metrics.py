"""/metrics parses as Prometheus text (checked by prometheus_client's parser,
which we did not write, and by a strict line check) and says what the agent
does; /healthz turns degraded with the reason when the kernel drops records;
/livez stays ok; SIGUSR1 logs the same counters; bad requests and a busy
address fail cleanly; --log-format json logs JSON lines."""
import json
import os
import re
import signal
import socket
import subprocess
import time

from prometheus_client.parser import text_string_to_metric_families

from tapio import BIN, SOURCE_DIR, Collector, check, http_get, require_root, run_tests, unique

NAME_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"'
                       r'(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*)?\})? '
                       r'(-?[0-9.e+-]+|NaN|[+-]Inf)$')


def strict_check(text):
    """Exposition format 0.0.4, strictly: HELP and TYPE once per family,
    before its samples; a family's samples contiguous; no duplicate series;
    counters named *_total; a final newline."""
    check(text.endswith("\n"), "no final newline")
    families, current, series = {}, None, set()
    for n, line in enumerate(text.split("\n")[:-1], 1):
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            check(NAME_RE.match(name), "line %d: bad name %r" % (n, name))
            check(name not in families, "line %d: family %s seen twice" % (n, name))
            families[name] = None
            current = name
        elif line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ")
            check(name == current and families[name] is None, "line %d: TYPE out of place" % n)
            check(typ in ("counter", "gauge"), "line %d: type %r" % (n, typ))
            families[name] = typ
        else:
            m = SAMPLE_RE.match(line)
            check(m, "line %d: not a sample: %r" % (n, line))
            check(m.group(1) == current and families.get(current), "line %d: sample outside its family" % n)
            check((m.group(1), m.group(2)) not in series, "line %d: duplicate series" % n)
            series.add((m.group(1), m.group(2)))
            float(m.group(3))
    for name, typ in families.items():
        check(typ, "family %s has no TYPE" % name)
        if typ == "counter":
            check(name.endswith("_total"), "counter %s does not end in _total" % name)
    return families


# Most tests need only process events: loading one family starts faster.
PROC = ("-k", "categories=process")


def scrape(c):
    status, headers, body = c.http_get("/metrics")
    check(status == 200, "/metrics status %r" % status)
    check(headers.get("Content-Type") == "text/plain; version=0.0.4; charset=utf-8",
          "content type %r" % headers.get("Content-Type"))
    strict_check(body)
    samples = {}
    for fam in text_string_to_metric_families(body):
        for s in fam.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def check_documented(samples):
    """Every metric family the collector exposes is named in the docs (the
    metrics reference is docs/operations.md; a few live beside their topic)."""
    docs = os.path.join(SOURCE_DIR, "docs")
    ref = "".join(open(os.path.join(docs, n)).read() for n in sorted(os.listdir(docs)) if n.endswith(".md"))
    for name, _ in samples:
        family = name
        if family not in ref:
            raise AssertionError("metric %s is not documented in docs/" % family)


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))))


def run_some_processes(n=5):
    for _ in range(n):
        subprocess.run(["/bin/true"])


def test_metrics_parse_and_say_what_happens():
    with Collector("-a") as c:
        run_some_processes()
        c.wait_until(lambda: len(c.find(type="process.exec", filename="/bin/true")) >= 5,
                     what="5 execs of /bin/true")
        s = scrape(c)
        check(value(s, "tapio_events_total", type="process.exec") >= 5, "exec count")
        check(value(s, "tapio_events_passed_total") >= 5, "passed count")
        for cat in ("process", "file", "network", "security", "container", "memory"):
            check(value(s, "tapio_kernel_drops_total", category=cat) is not None,
                  "no kernel drop counter for %s" % cat)
        check(value(s, "tapio_ring_buffer_size_bytes") == 8 * 1024 * 1024, "ring size")
        check(value(s, "tapio_ring_buffer_used_bytes") is not None, "ring usage")
        rss = value(s, "process_resident_memory_bytes")
        check(rss and rss > 1 << 20, "rss %r" % rss)
        check(value(s, "process_cpu_seconds_total") > 0, "cpu seconds")
        check(value(s, "process_open_fds") > 3, "open fds")
        start = value(s, "process_start_time_seconds")
        check(abs(start - time.time()) < 600, "start time %r" % start)
        check(value(s, "tapio_build_info", version=c_version()) == 1, "build info")
        check(value(s, "tapio_http_requests_total", code="200") is not None, "http counter")
        check(value(s, "tapio_bpf_programs", status="attached") > 0, "no attached programs")
        # Programs this kernel has no hook for are a note, not a fault.
        status, _, body = c.http_get("/healthz?format=json")
        doc = json.loads(body)
        check(not any(r["name"] == "programs" for r in doc["reasons"]), "programs refused: %r" % doc)
        skipped = value(s, "tapio_bpf_programs", status="skipped")
        check(bool(skipped) == any(n["name"] == "programs_unavailable" for n in doc["notes"]),
              "skipped %r but notes %r" % (skipped, doc["notes"]))
        check_documented(s)
        c.stop()


def test_sampler_metrics_documented():
    with Collector(*PROC, "--set", "sampling.enabled=true", output="none") as c:
        s = scrape(c)
        for reason in ("sampled", "rate_limit_process", "rate_limit_container", "rate_limit_global"):
            check(value(s, "tapio_events_dropped_total", reason=reason) is not None, "no %s counter" % reason)
        check(value(s, "tapio_sampler_burst_factor") == 1, "burst factor")
        check_documented(s)
        c.stop()


def c_version():
    return subprocess.run([BIN, "--version"], capture_output=True, text=True).stdout.split()[1]


def test_health_degrades_on_kernel_drops():
    # A tiny ring drained once a second, and a flood of failed execs from
    # one process: the kernel must drop records, and /healthz must say so.
    with Collector(*PROC, "-a", "--set", "ring.size=64K", "--set", "ring.drain_interval=1s",
                   output="none") as c:
        status, _, body = c.http_get("/livez")
        check(status == 200 and body == "ok\n", "/livez %r %r" % (status, body))
        missing = "/nonexistent/" + unique("flood")
        code = ("import os, time\nend = time.time() + 3\nwhile time.time() < end:\n"
                "    try:\n        os.execv(%r, [%r])\n    except OSError:\n        pass\n") % (missing, missing)
        subprocess.run(["/usr/bin/python3", "-c", code])
        deadline = time.monotonic() + 20
        while True:
            status, headers, body = c.http_get("/healthz")
            if "kernel_drops" in body or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        check(status == 503, "/healthz status %r body %r" % (status, body))
        check(body.startswith("degraded: ") and "the kernel is dropping records" in body
              and "process +" in body, "/healthz body %r" % body)
        status, headers, body = c.http_get("/healthz?format=json")
        doc = json.loads(body)
        check(doc["status"] == "degraded", "json status %r" % doc)
        check(any(r["name"] == "kernel_drops" for r in doc["reasons"]), "json reasons %r" % doc)
        s = scrape(c)
        check(value(s, "tapio_kernel_drops_total", category="process") > 0, "drops not counted")
        check(value(s, "tapio_healthy") == 0, "tapio_healthy not 0")
        # Degraded is not dead.
        status, _, _ = c.http_get("/livez")
        check(status == 200, "/livez while degraded: %r" % status)
        # The warning names the key to change, with the ring's size now and twice it.
        warned = [l for l in c.log if "the kernel dropped" in l]
        check(warned and "raise ring.size (now 64K: e.g. --set ring.size=128K" in warned[0],
              "warning about kernel drops: %r" % warned)
        c.stop()


def test_sigusr1_logs_the_same_counters():
    with Collector(*PROC, "-a") as c:
        run_some_processes(3)
        c.wait_event(type="process.exec", filename="/bin/true")
        c.signal(signal.SIGUSR1)
        line = c.wait_log("stats (SIGUSR1):")
        s = scrape(c)
        m = re.search(r'events_total\{type="process.exec"\}=(\d+)', line)
        check(m, "no exec counter in %r" % line)
        logged = int(m.group(1))
        now = value(s, "tapio_events_total", type="process.exec")
        check(0 < logged <= now, "logged %r, scraped %r" % (logged, now))
        check("process_resident_memory_bytes=" in line, "no RSS in %r" % line)
        c.stop()
        exit_line = c.wait_log("stats (exit):")
        check("kernel_records_total=" in exit_line, "exit stats %r" % exit_line)


def test_bad_requests_and_busy_address():
    with Collector(*PROC, "-a", output="none") as c:
        host, port = c.metrics_base()[len("http://"):].rsplit(":", 1)
        for raw, want in ((b"POST /metrics HTTP/1.1\r\n\r\n", b"HTTP/1.1 405 "),
                          (b"\x16\x03\x01\x00\xa5\x01\x00\x00\r\n\r\n", b"HTTP/1.1 400 "),
                          (b"GET /../../etc/passwd HTTP/1.1\r\n\r\n", b"HTTP/1.1 404 ")):
            with socket.create_connection((host, int(port)), timeout=10) as sk:
                sk.sendall(raw)
                got = sk.recv(100)
            check(got.startswith(want), "%r -> %r" % (raw[:20], got[:40]))
        status, _, body = c.http_get("/metrics")
        check(status == 200, "server dead after bad requests")

        # The same address, explicitly, for a second collector: a clear error.
        r = subprocess.run([BIN, "-a", "-o", "none", "--metrics-addr", "%s:%s" % (host, port),
                            "--duration", "1s"], capture_output=True, text=True, timeout=60)
        check(r.returncode == 1, "exit code %r" % r.returncode)
        check("cannot listen on %s:%s for metrics: Address already in use" % (host, port) in r.stderr,
              "stderr %r" % r.stderr)
        c.stop()
    r = subprocess.run([BIN, "-a", "-o", "none", "--metrics-addr", "localhost", "--duration", "1s"],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 2 and "invalid value 'localhost' for --metrics-addr" in r.stderr,
          "stderr %r" % r.stderr)


def test_metrics_off_and_json_logs():
    with Collector(*PROC, "-a", "--metrics-addr", "off", "--duration", "2s", env={"TAPIO_LOG_FORMAT": "json"}) as c:
        rc = c.proc.wait(60)
        c.stop()
        check(rc == 0, "exit code %r" % rc)
        check(c.log, "no log lines")
        for line in c.log:
            doc = json.loads(line)
            check(set(doc) == {"ts", "level", "msg"}, "log keys %r" % doc)
            check(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", doc["ts"]), "ts %r" % doc["ts"])
            check(doc["level"] in ("error", "warn", "info", "debug"), "level %r" % doc["level"])
        check(not any("metrics on" in json.loads(l)["msg"] for l in c.log), "metrics served although off")


if __name__ == "__main__":
    require_root()
    run_tests([test_metrics_parse_and_say_what_happens, test_sampler_metrics_documented,
               test_health_degrades_on_kernel_drops,
               test_sigusr1_logs_the_same_counters, test_bad_requests_and_busy_address,
               test_metrics_off_and_json_logs])
