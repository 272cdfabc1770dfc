"""--otlp against an OTLP logs receiver built on Debian's grpcio with the
OpenTelemetry protos: every event arrives as a LogRecord with the
documented mapping; retryable failures are retried, refused data is
counted, nothing else is lost."""
import os
import threading

import grpc

from cgtest import FakePod
from delivery import (OTLP_METHOD, ExportRequest, ExportResponse, PyServer, deliver, kernel_dropped, markers_in,
                      spawn, summary, wait_markers)
from tapio import TempDir, check, require_root, run_tests, unique


def records(server, requests=None):
    out = []
    for raw in (requests if requests is not None else list(server.requests)):
        req = ExportRequest.FromString(raw)
        for rl in req.resource_logs:
            for sl in rl.scope_logs:
                for rec in sl.log_records:
                    out.append((rl, rec))
    return out


def value(v):
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return dict((kv.key, value(kv.value)) for kv in v.kvlist_value.values)
    return getattr(v, kind)


def attrs(rec):
    return dict((kv.key, value(kv.value)) for kv in rec.attributes)


def rec_markers(raws, markers):
    counts = dict((m, 0) for m in markers)
    for _, r in records(None, list(raws)):
        for a in attrs(r).get("tapio.argv", [None])[1:]:
            if a in counts:
                counts[a] += 1
    return counts


def key_of_stdout(e):
    return (e["type"], e["ts"], e["pid"], e["tid"])


def key_of_rec(rec):
    a = attrs(rec)
    return (rec.event_name, rec.time_unix_nano, a["process.pid"], a["thread.id"])


def ok(raw, context):
    return ExportResponse().SerializeToString()


def test_receiver_decodes_every_event():
    with TempDir() as tmp, PyServer(OTLP_METHOD, handler=ok) as server, FakePod(tmp, unique("web")) as pod:
        with deliver("--otlp", server.addr, tmp=tmp, env=pod.env) as c:
            c.wait_log("otlp: delivering to")
            markers = [unique("otlp") for _ in range(5)]
            for m in markers:
                spawn(tmp, m)
            pod_marker = unique("pod")
            pod_pid, pod_exe = pod.spawn(pod_marker)
            markers.append(pod_marker)
            wait_markers(c, lambda: rec_markers(server.requests, markers), markers)
            c.stop()
        marker = next(m for m, n in markers_in(c.events, markers).items() if n)
        got = records(server)
        # Unary calls may complete in any order: compare as sets, and count.
        check(len(got) == len(c.events), "records %d, stdout %d" % (len(got), len(c.events)))
        check(set(key_of_rec(r) for _, r in got) == set(key_of_stdout(e) for e in c.events),
              "records differ from stdout")
        rl, rec = next((rl, r) for rl, r in got if attrs(r).get("tapio.argv", [None])[1:] == [marker])
        ex = next(e for e in c.events if e["type"] == "process.exec" and e["argv"][1:] == [marker])
        a = attrs(rec)
        check(rec.event_name == "process.exec" and a["event.name"] == "process.exec", "event name")
        check(rec.time_unix_nano == ex["ts"] and rec.observed_time_unix_nano >= ex["ts"], "times")
        check(rec.severity_number == 9 and rec.severity_text == "info", "severity %r" % rec.severity_number)
        check(a["process.pid"] == ex["pid"] and a["process.parent_pid"] == ex["ppid"] and
              a["process.user.id"] == ex["uid"] and a["process.command"] == ex["comm"],
              "process attributes %r" % a)
        check(a["tapio.argv"] == ex["argv"] and a["tapio.filename"] == ex["filename"] and
              a["tapio.ret"] == ex["ret"], "event fields %r" % a)
        check("process.exec" in rec.body.string_value and marker in rec.body.string_value,
              "body %r" % rec.body.string_value)
        # The enrichment under the semantic conventions' names.
        check(a["process.executable.path"] == ex["exe"] == ex["filename"] and
              a["process.command_args"] == ex["argv"], "process %r" % a)
        check(a["tapio.parent.comm"] == ex["parent"]["comm"] and a["tapio.parent.exe"] == ex["parent"]["exe"] and
              a["process.parent_pid"] == os.getpid(), "parent %r" % a)
        check(a["tapio.ancestors"] == ex["ancestors"], "ancestors %r, stdout %r" % (a["tapio.ancestors"], ex["ancestors"]))
        check(not [k for k in a if k.startswith(("container.", "k8s."))], "host process in a pod: %r" % a)
        xt = next(attrs(r) for _, r in got if r.event_name == "process.exit" and attrs(r)["process.pid"] == ex["pid"])
        check(xt["process.command_args"] == ex["argv"] and "tapio.argv" not in xt and "tapio.ancestors" in xt,
              "exit %r" % xt)
        pa = next((attrs(r) for _, r in got if r.event_name == "process.exec" and attrs(r)["process.pid"] == pod_pid
                   and attrs(r)["tapio.filename"] == pod_exe),
                  None)
        if pa is None:
            check(kernel_dropped(c), "the pod's exec is neither received nor dropped by the kernel")
        else:
            want = {"process.executable.path": pod_exe, "container.id": pod.cid, "container.runtime": "containerd",
                    "k8s.pod.name": pod.pod, "k8s.namespace.name": pod.ns, "k8s.pod.uid": pod.uid,
                    "k8s.container.name": "app", "tapio.k8s.qos": "Burstable"}
            check(dict((k, pa.get(k)) for k in want) == want, "pod record %r" % pa)
        res = dict((kv.key, kv.value.string_value) for kv in rl.resource.attributes)
        check(res.get("service.name") == "tapio-collector" and res.get("host.name") and
              res.get("service.instance.id"), "resource %r" % res)
        s = summary(c, "otlp")
        check(s["acked"] == len(c.events) and s["dropped"] == 0, "summary %r" % s)


def test_retries_and_refusals():
    lock = threading.Lock()
    state = {"n": 0, "ok": [], "invalid": 0, "partial": 0}

    def handler(raw, context):
        n_recs = len(records(None, [raw]))
        with lock:
            state["n"] += 1
            n = state["n"]
        if n <= 3:
            context.abort(grpc.StatusCode.UNAVAILABLE, "warming up")
        if n == 4:
            with lock:
                state["invalid"] += n_recs
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "cannot parse these")
        if n == 5:
            with lock:
                state["partial"] += 1
                state["ok"].append(raw)
            return ExportResponse(partial_success={"rejected_log_records": 1,
                                                   "error_message": "one too old"}).SerializeToString()
        with lock:
            state["ok"].append(raw)
        return ok(raw, context)

    with TempDir() as tmp, PyServer(OTLP_METHOD, handler=handler) as server:
        with deliver("--otlp", server.addr, tmp=tmp) as c:
            c.wait_log("cannot parse these")
            c.wait_log("one too old")
            markers = [unique("otlp") for _ in range(5)]
            for m in markers:
                spawn(tmp, m)
            wait_markers(c, lambda: rec_markers(state["ok"], markers), markers)
            c.stop()
        s = summary(c, "otlp")
        taken = len(records(None, state["ok"]))
        check(s["rejected"] == state["invalid"] + 1, "rejected %d, refused %d + 1" % (s["rejected"], state["invalid"]))
        check(s["acked"] == taken - 1, "acked %d, taken %d - 1" % (s["acked"], taken))
        check(s["acked"] + s["rejected"] == len(c.events), "acked + rejected %d, stdout %d" % (
            s["acked"] + s["rejected"], len(c.events)))
        check(s["reconnects"] >= 1 and s["dropped"] == s["rejected"], "summary %r" % s)


if __name__ == "__main__":
    require_root()
    run_tests([test_receiver_decodes_every_event, test_retries_and_refusals])
