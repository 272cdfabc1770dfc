"""--server end to end with the real collector and tapio-sink: every event
arrives once and in order; outages, a server killed mid-batch, a collector
restarted while the server is down, a wrong token and the spool cap lose
nothing that is not counted; TLS with a CA made here."""
import os
import re
import signal
import socket
import subprocess
import threading
import time

from delivery import (Sink, kernel_dropped, check_markers, check_same_stream, deliver, emitted, markers_in, spawn,
                      summary, wait_for, wait_markers)
from cgtest import FakePod
from tapio import TempDir, check, require_root, run_tests, unique


class HeldPort:
    """A loopback port bound but not listening: a connect to it is refused at
    once (a server outage), and no other process on the machine can take the
    port meanwhile (a test's sink, another engineer's agent: a collector that
    found a stranger there would deliver its spool to it). release() frees
    it for the sink that ends the outage."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]

    def release(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None


class Load:
    """Processes started in a loop from a thread, until stopped."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.markers = []
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop.is_set():
            m = unique("load")
            spawn(self.tmp, m)
            self.markers.append(m)
            time.sleep(0.005)

    def stop(self):
        self._stop.set()
        self._t.join(10)


def check_enriched(c, got, markers, pod, pod_pid, pod_exe):
    """The enrichment made it through the sink: a host process's exec has
    its executable and parent (this test), its exit its arguments; the pod's
    process has its container and pod names. (check_same_stream compares
    every event whole; this says those fields are there to compare.)"""
    host = next(e for e in c.events
                if e["type"] == "process.exec" and len(e["argv"]) == 2 and e["argv"][1] in markers)
    mine = [e for e in got if e["pid"] == host["pid"]]
    ex = next((e for e in mine if e["type"] == "process.exec"), None)
    check(ex and ex.get("exe") == host["filename"], "host exec at the sink: %r" % ex)
    check(ex["parent"]["pid"] == os.getpid() and ex["parent"].get("comm"), "parent %r" % ex["parent"])
    xt = next((e for e in mine if e["type"] == "process.exit"), None)
    check(xt and xt.get("argv") == host["argv"] and xt.get("exe") == host["filename"],
          "host exit at the sink: %r" % xt)
    pe = next((e for e in got if e["type"] == "process.exec" and e["pid"] == pod_pid
               and e["filename"] == pod_exe), None)
    if pe is None:
        check(kernel_dropped(c), "the pod's exec is neither at the sink nor dropped by the kernel")
        return
    check(pe.get("container") == pod.container and pe.get("k8s") == pod.k8s,
          "pod exec at the sink: container %r k8s %r, want %r %r" % (
              pe.get("container"), pe.get("k8s"), pod.container, pod.k8s))


def test_every_event_once_in_order():
    with TempDir() as tmp, Sink(os.path.join(tmp, "out.jsonl")) as sink, FakePod(tmp, unique("web")) as pod:
        with deliver("--server", sink.addr, "--buffer-size", "50", tmp=tmp, env=pod.env) as c:
            c.wait_log("grpc: delivering to")
            markers = [unique("m") for _ in range(30)]
            for m in markers:
                spawn(tmp, m)
            pod_marker = unique("pod")
            pod_pid, pod_exe = pod.spawn(pod_marker)
            wait_markers(c, lambda: markers_in(sink.events(), markers + [pod_marker]), markers + [pod_marker])
            rc = c.stop()
        check(rc == 0, "collector exit code %r" % rc)
        s = summary(c)
        check(s["sent"] == s["acked"] and s["dropped"] == 0 and s["resent"] == 0,
              "summary %r" % s)
        check(s["acked"] == emitted(c) == len(c.events),
              "acked %d, emitted %d, printed %d" % (s["acked"], emitted(c), len(c.events)))
        got = sink.events()
        check_same_stream(c.events, got)
        check_markers(c, got, markers)
        check_enriched(c, got, markers, pod, pod_pid, pod_exe)
        check(max(len([e for e in got if e["batch_seq"] == b]) for b in set(e["batch_seq"] for e in got)) <= 50,
              "a batch over --buffer-size")
        check(sink.stop() == 0, "sink exit code")


def test_outage_loses_nothing():
    with TempDir() as tmp:
        out = os.path.join(tmp, "out.jsonl")
        sink = Sink(out)
        port = sink.port
        with deliver("--server", sink.addr, tmp=tmp) as c:
            c.wait_log("grpc: delivering to")
            before = [unique("before") for _ in range(5)]
            for m in before:
                spawn(tmp, m)
            wait_markers(c, lambda: markers_in(sink.events(), before), before)
            sink.stop()

            during = [unique("during") for _ in range(20)]
            for m in during:
                spawn(tmp, m)
            c.wait_log("grpc: delivery to")  # the failure is reported
            time.sleep(1.5)  # a few reconnect attempts fail

            sink = Sink(out, port=port)
            c.wait_log("delivering to %s again" % sink.addr)
            after = [unique("after") for _ in range(5)]
            for m in after:
                spawn(tmp, m)
            wait_markers(c, lambda: markers_in(sink.events(), after), after)
            c.stop()
        sink.stop()
        got = sink.events()
        check_markers(c, got, before + during + after)
        check_same_stream(c.events, got)
        s = summary(c)
        check(s["dropped"] == 0 and s["reconnects"] >= 1, "summary %r" % s)


def test_server_killed_mid_batch():
    with TempDir() as tmp:
        out = os.path.join(tmp, "out.jsonl")
        sink = Sink(out)
        port = sink.port
        with deliver("--server", sink.addr, "--buffer-size", "20", tmp=tmp) as c:
            c.wait_log("grpc: delivering to")
            load = Load(tmp)
            time.sleep(1.0)
            sink.stop(signal.SIGKILL)  # no chance to finish what it was writing
            time.sleep(1.0)
            sink = Sink(out, port=port)
            time.sleep(1.5)
            load.stop()
            c.stop()
        sink.stop()
        got = sink.events()
        check(load.markers, "no load ran")
        check_markers(c, got, load.markers)
        check_same_stream(c.events, got)
        check(summary(c)["dropped"] == 0, "summary %r" % summary(c))


def test_spooled_across_collector_restart():
    with TempDir() as tmp:
        out = os.path.join(tmp, "out.jsonl")
        held = HeldPort()
        port = held.port
        addr = "127.0.0.1:%d" % port
        env = {"TAPIO_DRAIN_TIMEOUT": "1s"}
        with deliver("--server", addr, tmp=tmp, env=env) as c1:
            c1.wait_log("grpc: delivery to")
            first = [unique("first") for _ in range(10)]
            for m in first:
                spawn(tmp, m)
            c1.wait_until(lambda: all(markers_in(c1.events, first).values()) or kernel_dropped(c1),
                          what="markers on stdout")
            c1.stop()
        check(summary(c1)["acked"] == 0, "acked without a server?")
        m = next((re.search(r"(\d+) events not yet delivered", l) for l in c1.log
                  if "not yet delivered" in l), None)
        check(m and int(m.group(1)) == len(c1.events),
              "spooled at exit: %r, printed %d" % (m and m.group(1), len(c1.events)))

        held.release()
        sink = Sink(out, port=port)
        with deliver("--server", addr, tmp=tmp) as c2:
            c2.wait_log("from an earlier run will be sent first")
            second = [unique("second") for _ in range(5)]
            for m in second:
                spawn(tmp, m)
            wait_markers(c2, lambda: markers_in(sink.events(), second), second)
            wait_for(lambda: len(sink.events()) >= len(c1.events), what="the first run's events")
            c2.stop()
        sink.stop()
        got = sink.events()
        check_markers(c1, markers_in(got, first), first)
        check_markers(c2, markers_in(got, second), second)
        # The first run's events come first, whole, then the second run's.
        check_same_stream(c1.events + c2.events, got)


def test_wrong_token_then_fixed():
    with TempDir() as tmp:
        good = os.path.join(tmp, "sink.token")
        mine = os.path.join(tmp, "collector.token")
        with open(good, "w") as f:
            f.write("s3cret-%s\n" % unique())
        with open(mine, "w") as f:
            f.write("wrong\n")
        with Sink(os.path.join(tmp, "out.jsonl"), args=["--token-file", good]) as sink:
            with deliver("--server", sink.addr, tmp=tmp, env={"TAPIO_TOKEN_FILE": mine}) as c:
                line = c.wait_log("UNAUTHENTICATED")
                check("TAPIO_TOKEN_FILE" in line, "no hint in %r" % line)
                markers = [unique("tok") for _ in range(5)]
                for m in markers:
                    spawn(tmp, m)
                time.sleep(1)
                check(not sink.events(), "events through a wrong token")
                with open(mine + ".new", "w") as f:
                    f.write(open(good).read())
                os.rename(mine + ".new", mine)  # read again at the next attempt
                wait_markers(c, lambda: markers_in(sink.events(), markers), markers)
                c.stop()
            sink.stop()
            check_same_stream(c.events, sink.events())
            check(summary(c)["dropped"] == 0, "dropped")


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True)


def make_ca(tmp):
    """A CA, a server certificate for 127.0.0.1 and a client certificate."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
            "-days", "2", "-subj", "/CN=tapio test CA", cwd=tmp)
    for name, ext in (("server", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
                      ("client", "extendedKeyUsage=clientAuth")):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".csr",
                "-subj", "/CN=tapio test " + name, cwd=tmp)
        with open(os.path.join(tmp, name + ".ext"), "w") as f:
            f.write(ext + "\n")
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext",
                cwd=tmp)


def test_tls_with_client_certificate():
    with TempDir() as tmp:
        make_ca(tmp)
        p = lambda n: os.path.join(tmp, n)
        args = ["--tls-cert", p("server.pem"), "--tls-key", p("server.key"), "--tls-ca", p("ca.pem")]
        with Sink(p("out.jsonl"), args=args) as sink:
            # Without a client certificate the handshake fails: nothing goes.
            with deliver("--server", sink.addr, tmp=tmp, env={"TAPIO_TLS_CA": p("ca.pem")}) as c:
                c.wait_log("grpc: delivery to")
                c.stop()
            check(not sink.events(), "delivered without a client certificate")
            env = {"TAPIO_TLS_CA": p("ca.pem"), "TAPIO_TLS_CERT": p("client.pem"),
                   "TAPIO_TLS_KEY": p("client.key")}
            with deliver("--server", sink.addr, tmp=tmp + "/2", env=env) as c:
                c.wait_log("grpc: delivering to")
                markers = [unique("tls") for _ in range(5)]
                for m in markers:
                    spawn(tmp, m)
                wait_markers(c, lambda: markers_in(sink.events(), markers), markers)
                c.stop()
            sink.stop()
            got = [e for e in sink.events()]
            check_same_stream(c.events, got)


def test_spool_cap_drops_are_counted():
    with TempDir() as tmp:
        held = HeldPort()
        port = held.port
        addr = "127.0.0.1:%d" % port
        env = {"TAPIO_QUEUE_MAX": "64K", "TAPIO_SPOOL_MAX": "64K", "TAPIO_DRAIN_TIMEOUT": "500ms"}
        # A flush interval longer than the burst: the events pile up into
        # batches as large as the batch limits allow, as a fast burst does on
        # a busy machine. A batch larger than the caps could only be dropped
        # whole; the client keeps its batches to a quarter of the caps.
        with deliver("--server", addr, "--flush-interval", "3s", tmp=tmp, env=env) as c:
            c.wait_log("grpc: delivery to")
            for i in range(400):
                spawn(tmp, "cap-%d" % i)
            c.stop()
        s = summary(c)
        m = next((re.search(r"(\d+) events not yet delivered", l) for l in c.log
                  if "not yet delivered" in l), None)
        left = int(m.group(1)) if m else 0
        check(s["acked"] == 0, "acked without a server: %r" % s)
        check(s["spool_full"] > 0, "nothing dropped at the cap: %r" % s)
        # Every event handed to the output is accounted for.
        check(emitted(c) == s["acked"] + s["dropped"] + left,
              "emitted %d != acked %d + dropped %d + spooled %d" % (emitted(c), s["acked"], s["dropped"], left))
        spool = os.path.join(tmp, "spool", "grpc")
        size = sum(os.path.getsize(os.path.join(spool, f)) for f in os.listdir(spool) if f.endswith(".batch"))
        check(0 < size <= 64 * 1024, "spool holds %d bytes" % size)

        # What the spool kept arrives after a restart.
        held.release()
        with Sink(os.path.join(tmp, "out.jsonl"), port=port) as sink:
            with deliver("--server", addr, tmp=tmp) as c2:
                c2.wait_log("from an earlier run will be sent first")
                wait_for(lambda: len(sink.events()) >= left, what="spooled events")
                c2.stop()
            sink.stop()
            check(len(sink.events()) == left + len(c2.events),
                  "sink %d, spooled %d + second run %d" % (len(sink.events()), left, len(c2.events)))


if __name__ == "__main__":
    require_root()
    run_tests([test_every_event_once_in_order, test_outage_loses_nothing, test_server_killed_mid_batch,
               test_spooled_across_collector_restart, test_wrong_token_then_fixed,
               test_tls_with_client_certificate, test_spool_cap_drops_are_counted])
