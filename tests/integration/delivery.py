"""Helpers for delivery tests: tapio-sink as a process, gRPC servers we
control written on Debian's grpcio (a gRPC implementation we did not
write), protobuf classes from the descriptor sets the build makes, and a
collector set up to deliver with short backoffs and its own spool.

Every address is on loopback with a port picked by the OS; every
directory is a fresh temporary one.
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
from concurrent import futures

import grpc
from google.protobuf import descriptor_pb2, message_factory

from tapio import Collector, TestFailure, check, unique

BUILD_DIR = os.environ.get("TAPIO_BUILD_DIR", os.path.join(os.path.dirname(__file__), "../../build"))
SINK_BIN = os.environ.get("TAPIO_SINK_BIN", os.path.join(BUILD_DIR, "tapio-sink"))
STREAM_METHOD = "/tapio.v1.TapioService/StreamEvents"
OTLP_METHOD = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"


def messages(name):
    """Message classes of build/proto/<name>.desc, by full name."""
    with open(os.path.join(BUILD_DIR, "proto", name + ".desc"), "rb") as f:
        fds = descriptor_pb2.FileDescriptorSet.FromString(f.read())
    return message_factory.GetMessages(fds.file)


TAPIO = messages("tapio")
OTLP = messages("otlp")
Request = TAPIO["tapio.v1.TapioStreamEventsRequest"]
Response = TAPIO["tapio.v1.TapioStreamEventsResponse"]
ExportRequest = OTLP["opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest"]
ExportResponse = OTLP["opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse"]


def delivery_env(tmp, **extra):
    """Environment for a collector that delivers: its own spool, short
    backoffs and timeouts so outages in tests last seconds."""
    env = {
        "TAPIO_SPOOL_DIR": os.path.join(tmp, "spool"),
        "TAPIO_COLLECTOR_ID": unique("collector"),
        "TAPIO_BACKOFF_MIN": "100ms",
        "TAPIO_BACKOFF_MAX": "500ms",
        "TAPIO_DRAIN_TIMEOUT": "5s",
    }
    env.update({k: str(v) for k, v in extra.items()})
    return env


def deliver(*args, tmp, env=None, **kw):
    """A collector with every process event (-a) going to stdout as JSON and
    to the given --server / --otlp, flushing partial batches fast. Only the
    process family: what the tests generate, and the less the machine's
    other work fills the ring, the rarer kernel drops are."""
    e = delivery_env(tmp)
    e.update(env or {})
    c = Collector("-a", "-k", "categories=process", "--flush-interval", "100ms", *args,
                  env=e, **kw)
    # A first ack ("delivering to"), a refusal, a malformed answer: each
    # needs a batch, hence an event. Nothing else may run on the machine.
    c.poke = lambda: subprocess.run(["/bin/true"])
    return c


def markers_in(events, markers):
    """How often each marker shows up as an argument of an exec event (JSON)."""
    counts = dict((m, 0) for m in markers)
    for e in events:
        if e.get("type") == "process.exec":
            for a in e.get("argv", [])[1:]:
                if a in counts:
                    counts[a] += 1
    return counts


def kernel_dropped(c):
    return any("the kernel dropped" in l for l in c.log)


def wait_markers(c, received_counts, markers, timeout=30):
    """Wait until every marker the collector printed has reached the
    receiver (received_counts() -> {marker: n}). A marker the kernel dropped
    (ring full on a busy machine: counted and logged by the collector) never
    reaches stdout and is not delivery's business; without a reported drop
    every marker must show up."""
    def done():
        on = markers_in(c.events, markers)
        got = received_counts()
        return (all(got.get(m, 0) >= 1 for m, n in on.items() if n) and
                (all(on.values()) or kernel_dropped(c)))
    wait_for(done, timeout, "markers at the receiver")


def check_markers(c, received, markers):
    """Each marker reached the receiver exactly as often as stdout shows it
    (once, or never if the kernel dropped it), and most of them did."""
    on = markers_in(c.events, markers)
    got = received if isinstance(received, dict) else markers_in(received, markers)
    bad = [(m, on[m], got.get(m, 0)) for m in markers if got.get(m, 0) != on[m] or on[m] > 1]
    check(not bad, "markers (stdout, receiver) differ: %r" % bad[:5])
    check(sum(on.values()) >= len(markers) / 2, "only %d of %d markers on stdout" % (sum(on.values()), len(markers)))


def spawn(tmp, marker):
    """Run a uniquely named program with marker in its argv; returns its pid."""
    name = unique("tp")[:15]
    path = os.path.join(tmp, name)
    shutil.copy("/bin/true", path)
    os.chmod(path, 0o755)
    p = subprocess.Popen([path, marker])
    p.wait()
    return p.pid


def strip_batch(e):
    e = dict(e)
    e.pop("collector_id", None)
    e.pop("batch_seq", None)
    return e


def summary(collector, output="grpc"):
    """The counters of the exit summary line of one output, as a dict."""
    line = next((l for l in reversed(collector.log) if ("%s: sent " % output) in l), None)
    check(line, "no %s summary line in the log" % output)
    fields = {}
    for key, pat in (("sent", r"sent (\d+) events"), ("resent", r"\((\d+) resent\)"),
                     ("acked", r"acked (\d+)"), ("spooled", r"spooled (\d+)"),
                     ("dropped", r"dropped (\d+)"), ("queue_full", r"queue_full (\d+)"),
                     ("spool_full", r"spool_full (\d+)"), ("rejected", r"rejected (\d+)"),
                     ("shutdown", r"shutdown (\d+)"), ("reconnects", r"reconnects (\d+)")):
        m = re.search(pat, line)
        check(m, "summary line lacks %s: %r" % (key, line))
        fields[key] = int(m.group(1))
    return fields


def emitted(collector):
    """Events the pipeline handed to the outputs, from the exit stats line."""
    line = next((l for l in reversed(collector.log) if "stats (exit)" in l), None)
    check(line, "no exit stats line")
    m = re.search(r"events_emitted_total=(\d+)", line)
    return int(m.group(1)) if m else 0


class Sink:
    """tapio-sink as a process writing to out (a file kept across restarts)."""

    def __init__(self, out, port=0, args=(), expect_fail=False):
        self.out = out
        self.log = []
        cmd = [SINK_BIN, "--listen", "127.0.0.1:%d" % port, "--out", out] + list(args)
        self.proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
        self.port = None
        deadline = time.monotonic() + 20
        for line in self.proc.stderr:
            line = line.rstrip("\n")
            sys.stderr.write("  [sink] %s\n" % line)
            self.log.append(line)
            if "listening on" in line:
                self.port = int(line.rsplit(":", 1)[1])
                break
            if time.monotonic() > deadline:
                break
        if self.port is None and not expect_fail:
            self.proc.kill()
            raise TestFailure("tapio-sink did not start: %r" % self.log)
        self._t = threading.Thread(target=self._drain, daemon=True)
        self._t.start()

    def _drain(self):
        for line in self.proc.stderr:
            line = line.rstrip("\n")
            sys.stderr.write("  [sink] %s\n" % line)
            self.log.append(line)

    @property
    def addr(self):
        return "127.0.0.1:%d" % self.port

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        rc = self.proc.wait(30)
        self._t.join(5)
        return rc

    def events(self):
        out = []
        if not os.path.exists(self.out):
            return out
        with open(self.out) as f:
            for line in f:
                check(line.endswith("\n"), "partial line in sink output: %r" % line[:80])
                out.append(json.loads(line))
        return out

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def wait_for(pred, timeout=20, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        r = pred()
        if r:
            return r
        if time.monotonic() > deadline:
            raise TestFailure("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(0.1)


def check_same_stream(stdout_events, sink_events):
    """The sink holds exactly what the collector printed: same events with
    every field (the enrichment too: exe, argv, parent, ancestors,
    container, k8s), same order, none twice, batch sequences increasing."""
    got = [strip_batch(e) for e in sink_events]
    if got != stdout_events:
        for i, (a, b) in enumerate(zip(got, stdout_events)):
            if a != b:
                raise TestFailure("event %d differs:\n  sink   %r\n  stdout %r" % (i, a, b))
        raise TestFailure("sink has %d events, stdout %d" % (len(got), len(stdout_events)))
    seqs = []
    for e in sink_events:
        if not seqs or seqs[-1] != e["batch_seq"]:
            seqs.append(e["batch_seq"])
    check(seqs == sorted(seqs) and len(set(seqs)) == len(seqs),
          "batch sequences not increasing or repeated: %r" % seqs[:20])


class PyServer:
    """A grpcio server for StreamEvents or OTLP Export whose answers the test
    decides: handler(request_bytes, context) returns a list of response
    bytes (stream) or one response bytes (unary), or raises grpc errors via
    context.abort."""

    def __init__(self, method=STREAM_METHOD, handler=None, port=0, creds=None):
        self.method = method
        self.handler = handler
        self.requests = []
        self.lock = threading.Lock()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=8),
                                  options=[("grpc.max_receive_message_length", 64 << 20)])
        name = method.split("/")[1]
        meth = method.split("/")[2]
        ident = lambda b: b
        if method == STREAM_METHOD:
            h = grpc.stream_stream_rpc_method_handler(self._stream, request_deserializer=ident,
                                                      response_serializer=ident)
        else:
            h = grpc.unary_unary_rpc_method_handler(self._unary, request_deserializer=ident,
                                                    response_serializer=ident)
        self.server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(name, {meth: h}),))
        addr = "127.0.0.1:%d" % port
        self.port = (self.server.add_secure_port(addr, creds) if creds
                     else self.server.add_insecure_port(addr))
        check(self.port, "cannot listen on %s" % addr)
        self.server.start()

    @property
    def addr(self):
        return "127.0.0.1:%d" % self.port

    def _record(self, raw):
        with self.lock:
            self.requests.append(raw)

    def _stream(self, it, context):
        for raw in it:
            self._record(raw)
            for resp in self.handler(raw, context):
                yield resp

    def _unary(self, raw, context):
        self._record(raw)
        return self.handler(raw, context)

    def stop(self):
        self.server.stop(0).wait(10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def ack_all(raw, context):
    """Ack every batch (the plain, correct server)."""
    req = Request.FromString(raw)
    return [Response(acks=[req.batch.sequence]).SerializeToString()]


def decoded_batches(server):
    """Unique batches a PyServer received (dedup by collector and sequence),
    in arrival order."""
    seen, out = set(), []
    for raw in list(server.requests):
        b = Request.FromString(raw).batch
        key = (b.collector_id, b.sequence)
        if key not in seen:
            seen.add(key)
            out.append(b)
    return out
