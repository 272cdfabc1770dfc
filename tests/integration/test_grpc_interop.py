"""--server against a gRPC server we did not write (Debian's grpcio) that
misbehaves on purpose: garbage and oversized responses, a stream cut
before the ack, a slow server, no acks at all, control messages and
rejections. Every event printed on stdout must reach it (deduplicated by
sequence, as a real server would) or be counted as rejected."""
import os
import threading
import time

import grpc

from cgtest import FakePod
from delivery import (PyServer, Request, Response, ack_all, decoded_batches, deliver, kernel_dropped,
                      markers_in, spawn, summary, wait_for, wait_markers)
from tapio import TempDir, check, require_root, run_tests, unique

TAPIO_TYPES = ("process.exec", "process.fork", "process.exit")


def key_of_stdout(e):
    return (e["type"], e["ts"], e["pid"], e["tid"])


def key_of_pb(ev):
    return (ev.type, ev.timestamp_ns, ev.process.pid, ev.process.tid)


def received(server):
    return [ev for b in decoded_batches(server) for ev in b.events]


def check_all_received(c, server, rejected=()):
    """Every stdout event arrived once (after dedup by sequence) or was in a
    rejected batch; the order is the collector's."""
    got = [key_of_pb(ev) for ev in received(server)]
    want = [key_of_stdout(e) for e in c.events if key_of_stdout(e) not in set(rejected)]
    check(got == want, "received %d events, stdout %d (first difference at %s)" % (
        len(got), len(want), next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), "end")))


def pb_markers(server, markers):
    counts = dict((m, 0) for m in markers)
    for ev in received(server):
        if ev.type == "process.exec":
            for f in ev.fields:
                if f.name == "argv":
                    for a in f.string_list.values[1:]:
                        if a in counts:
                            counts[a] += 1
    return counts


def run_markers(tmp, c, server, n=10, prefix="m"):
    """Spawn marked processes and wait until those the collector saw reached
    the server."""
    markers = [unique(prefix) for _ in range(n)]
    for m in markers:
        spawn(tmp, m)
    wait_markers(c, lambda: pb_markers(server, markers), markers)
    return markers


def test_python_server_receives_every_field():
    with TempDir() as tmp, PyServer(handler=ack_all) as server, FakePod(tmp, unique("web")) as pod:
        with deliver("--server", server.addr, tmp=tmp, env=pod.env) as c:
            markers = run_markers(tmp, c, server)
            pod_marker = unique("pod")
            pod_pid, pod_exe = pod.spawn(pod_marker)
            wait_markers(c, lambda: pb_markers(server, [pod_marker]), [pod_marker])
            c.stop()
        check_all_received(c, server)
        # Field by field, an exec as stdout printed it and as grpcio decoded it.
        by_key = dict((key_of_pb(ev), ev) for ev in received(server))
        seen = [m for m, n in markers_in(c.events, markers).items() if n]
        check(seen, "no marker on stdout")
        ex = next(e for e in c.events if e["type"] == "process.exec" and e["argv"][1:] == [seen[0]])
        ev = by_key[key_of_stdout(ex)]
        fields = dict((f.name, f) for f in ev.fields)
        check(list(fields["argv"].string_list.values) == ex["argv"], "argv %r" % fields["argv"])
        check(fields["filename"].string_value == ex["filename"], "filename")
        check(fields["ret"].int_value == ex["ret"], "ret")
        check(ev.process.comm == ex["comm"] and ev.process.ppid == ex["ppid"] and
              ev.process.uid == ex["uid"] and ev.cpu == ex["cpu"] and
              ev.process.cgroup_id == ex["cgroup_id"], "process context %r" % ev.process)
        check(ev.importance == -1 and not ev.rule, "an unscored event")
        # The enrichment, decoded by grpcio: this exec's executable and
        # parent (this test, which /proc told the collector about), its
        # exit's arguments from the process table, as stdout has them.
        check(ev.process.exe == ex["exe"] == ex["filename"], "exe %r" % ev.process.exe)
        check(ev.process.HasField("parent") and ev.process.parent.pid == os.getpid() == ex["parent"]["pid"]
              and ev.process.parent.comm == ex["parent"]["comm"] and ev.process.parent.exe == ex["parent"]["exe"]
              and ev.process.parent_comm == ex["parent"]["comm"], "parent %r" % ev.process.parent)
        check(not ev.process.HasField("argv"), "an exec has its argv as its own field")
        check(not ev.HasField("container") and not ev.HasField("k8s"), "host process in a container")
        xt = next(e for e in received(server) if e.type == "process.exit" and e.process.pid == ex["pid"])
        check(list(xt.process.argv.values) == ex["argv"] and xt.process.exe == ex["exe"],
              "exit's process context %r" % xt.process)
        # A process in a pod: container and Kubernetes names.
        pe = next((e for e in received(server) if e.type == "process.exec" and e.process.pid == pod_pid
                   and e.process.exe == pod_exe), None)
        if pe is None:
            check(kernel_dropped(c), "the pod's exec is neither received nor dropped by the kernel")
        else:
            check(pe.container.id == pod.cid and pe.container.runtime == "containerd",
                  "container %r" % pe.container)
            check((pe.k8s.pod, pe.k8s.namespace, pe.k8s.pod_uid, pe.k8s.container, pe.k8s.qos) ==
                  (pod.pod, pod.ns, pod.uid, "app", "Burstable"), "k8s %r" % pe.k8s)
        batch = decoded_batches(server)[0]
        check(batch.collector_id and batch.sequence > 10 ** 15 and batch.agent_version,
              "batch header %r %r" % (batch.collector_id, batch.sequence))
        s = summary(c)
        check(s["acked"] == len(c.events) and s["resent"] == 0, "summary %r" % s)


def once_then(first, then):
    """A handler that answers the first n requests with first(), then acks."""
    state = {"n": 0}
    lock = threading.Lock()

    def handler(raw, context):
        with lock:
            state["n"] += 1
            n = state["n"]
        return first(raw, context, n) if n <= 2 else ack_all(raw, context)
    return handler


def test_garbage_responses():
    garbage = once_then(lambda raw, ctx, n: [b"\xff\xfe\x00garbage" * 10], None)
    with TempDir() as tmp, PyServer(handler=garbage) as server:
        with deliver("--server", server.addr, tmp=tmp) as c:
            c.wait_log("malformed response")
            run_markers(tmp, c, server)
            c.stop()
        check_all_received(c, server)
        s = summary(c)
        check(s["reconnects"] >= 1 and s["dropped"] == 0, "summary %r" % s)


def test_oversized_response():
    huge = Response(rejections=[{"sequence": 1, "reason": "x" * (2 << 20)}]).SerializeToString()
    with TempDir() as tmp, PyServer(handler=once_then(lambda r, c, n: [huge], None)) as server:
        with deliver("--server", server.addr, tmp=tmp) as c:
            line = c.wait_log("RESOURCE_EXHAUSTED")
            check("size limit" in line, "no hint: %r" % line)
            run_markers(tmp, c, server)
            c.stop()
        check_all_received(c, server)


def test_stream_cut_before_the_ack():
    def cut(raw, context, n):
        context.abort(grpc.StatusCode.UNAVAILABLE, "going away before the ack")

    with TempDir() as tmp, PyServer(handler=once_then(cut, None)) as server:
        with deliver("--server", server.addr, tmp=tmp) as c:
            run_markers(tmp, c, server)
            c.stop()
        check_all_received(c, server)
        seqs = [Request.FromString(r).batch.sequence for r in server.requests]
        check(len(seqs) > len(set(seqs)), "no batch was sent twice")
        s = summary(c)
        check(s["resent"] > 0 and s["dropped"] == 0, "summary %r" % s)


def test_slow_server_spools_instead_of_growing():
    slow = {"on": True}

    def handler(raw, context):
        if slow["on"]:
            time.sleep(0.3)
        return ack_all(raw, context)

    with TempDir() as tmp, PyServer(handler=handler) as server:
        env = {"TAPIO_QUEUE_MAX": "64K"}
        with deliver("--server", server.addr, "--buffer-size", "20", tmp=tmp, env=env) as c:
            stop = time.monotonic() + 3
            i = 0
            while time.monotonic() < stop:
                spawn(tmp, "slow-%d" % i)
                i += 1
            slow["on"] = False
            markers = run_markers(tmp, c, server, n=3)
            c.stop()
        s = summary(c)
        check(s["spooled"] > 0, "memory cap not reached (slow server too fast?): %r" % s)
        check(s["dropped"] == 0, "summary %r" % s)
        check_all_received(c, server)


def test_no_acks_times_out_and_resends():
    state = {"ack": False}

    def handler(raw, context):
        return ack_all(raw, context) if state["ack"] else []

    with TempDir() as tmp, PyServer(handler=handler) as server:
        with deliver("--server", server.addr, tmp=tmp, env={"TAPIO_ACK_TIMEOUT": "1s"}) as c:
            for i in range(3):
                spawn(tmp, "noack-%d" % i)
            c.wait_log("no ack within 1.0s")
            state["ack"] = True
            run_markers(tmp, c, server)
            c.stop()
        check_all_received(c, server)
        check(summary(c)["resent"] > 0, "nothing resent")


def test_control_and_rejection():
    state = {"n": 0, "rejected": None}
    lock = threading.Lock()

    def handler(raw, context):
        req = Request.FromString(raw)
        with lock:
            state["n"] += 1
            n = state["n"]
        if n == 1:
            return [Response(acks=[req.batch.sequence], control={"max_batch_events": 5}).SerializeToString()]
        if n == 3:
            state["rejected"] = req.batch
            return [Response(rejections=[{"sequence": req.batch.sequence,
                                          "reason": "schema too new"}]).SerializeToString()]
        return ack_all(raw, context)

    with TempDir() as tmp, PyServer(handler=handler) as server:
        with deliver("--server", server.addr, tmp=tmp) as c:
            c.wait_log("at most 5 events per batch")
            markers = run_markers(tmp, c, server)
            c.wait_log("schema too new")
            c.stop()
        rej = state["rejected"]
        s = summary(c)
        check(s["rejected"] == len(rej.events), "rejected %d, batch had %d" % (s["rejected"], len(rej.events)))
        # Batches sealed after the control message (those of the markers,
        # spawned once it was applied) hold at most 5 events.
        later = [b for b in decoded_batches(server)
                 if any(f.name == "argv" and set(f.string_list.values) & set(markers)
                        for ev in b.events for f in ev.fields)]
        check(later and all(len(b.events) <= 5 for b in later),
              "batch sizes after control: %r" % [len(b.events) for b in later][:20])
        got = [key_of_pb(ev) for b in decoded_batches(server) if b.sequence != rej.sequence
               for ev in b.events]
        want = [key_of_stdout(e) for e in c.events
                if key_of_stdout(e) not in set(key_of_pb(ev) for ev in rej.events)]
        check(got == want, "received %d, want %d" % (len(got), len(want)))


if __name__ == "__main__":
    require_root()
    run_tests([test_python_server_receives_every_field, test_garbage_responses,
               test_oversized_response, test_stream_cut_before_the_ack,
               test_slow_server_spools_instead_of_growing, test_no_acks_times_out_and_resends,
               test_control_and_rejection])
