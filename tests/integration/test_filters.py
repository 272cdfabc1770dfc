"""Container and Kubernetes namespace filters on the real kernel: processes
in cgroups laid out like docker's and the kubelet's (with a fake kubelet
directory for pod names), filtered by container id prefix, container name
and namespace glob. What a filter leaves out never reaches the rules (a
rule that fails on it never runs), is counted by reason, and the books
balance: events in = passed + dropped."""
import os
import secrets
import shutil
import uuid

from cgtest import Cgroup
from tapio import Collector, TempDir, check, require_root, run_tests, unique
from test_enrich import copy_prog, fake_kubelet, no_disk_env
from test_sampling import check_books_balance, exit_stats


def kubelet_env(tmp):
    env = no_disk_env(tmp)
    kube = os.path.join(tmp, "kubelet")
    env["TAPIO_K8S_POD_LOGS_DIR"] = os.path.join(kube, "pods")
    env["TAPIO_K8S_CONTAINER_LOGS_DIR"] = os.path.join(kube, "containers")
    return env, kube


def pod(kube, ns, ctr):
    """A pod of namespace ns with one container named ctr: its cgroup path
    (cgroupfs driver, v1) and container id."""
    cid, uid = secrets.token_hex(32), str(uuid.uuid4())
    fake_kubelet(kube, ns, unique("pod"), uid, ctr, cid)
    return "kubepods/burstable/pod%s/%s" % (uid, cid), cid


def run_in(path, hier, prog):
    """Run prog (a copy of sleep: it lives long enough for enrichment to read
    its cgroup) in a cgroup; return its pid once it ended. Its fork and the
    shell that moves it happen before the move, outside the cgroup."""
    with Cgroup(path, hier) as cg:
        p = cg.popen([prog, "0.3"])
        p.wait()
    return p.pid


# The container family too: its cgroup events tell enrichment a cgroup's path.
CATEGORIES = ("-k", "categories=process,container")


def failing_rule(tmp, prog):
    """A rule that raises on prog's exec: a fault counted if it ever runs."""
    d = os.path.join(tmp, "rules")
    os.mkdir(d)
    with open(os.path.join(d, "trap.lua"), "w") as f:
        f.write('rule { name = "trap", events = { "process.exec" }, output = "x",\n'
                '  when = function(e) if e.filename == %r then error("ran") end return false end }\n'
                % prog)
    os.chmod(os.path.join(d, "trap.lua"), 0o644)
    return d


def test_containers_by_id_prefix_and_name():
    with TempDir() as tmp:
        env, kube = kubelet_env(tmp)
        prog, prog_out = copy_prog(tmp, "/bin/sleep"), copy_prog(tmp, "/bin/sleep")
        kept_id, dropped_id = secrets.token_hex(32), secrets.token_hex(32)
        ctr_name = unique("api")
        pod_path, _ = pod(kube, unique("shop"), ctr_name)
        rules = failing_rule(tmp, prog_out)
        # -a: the filters hold even when every event would go out.
        with Collector("-a", "-R", rules, *CATEGORIES, "--set",
                       "filter.containers=%s,%s" % (kept_id[:12], ctr_name), env=env) as c:
            by_prefix = run_in("system.slice/docker-%s.scope" % kept_id, ("v2",), prog)
            by_name = run_in(pod_path, ("v1",), prog)
            c.wait_event(type="process.exec", pid=by_prefix, filename=prog, timeout=20)
            ex = c.wait_event(type="process.exec", pid=by_name, filename=prog, timeout=20)
            check(ex["k8s"]["container"] == ctr_name, "pod container %r" % ex.get("k8s"))
            # Wait for the exits: everything before them has been through the stages.
            c.wait_event(type="process.exit", pid=by_prefix, timeout=20)
            c.wait_event(type="process.exit", pid=by_name, timeout=20)
            other = run_in("system.slice/docker-%s.scope" % dropped_id, ("v2",), prog_out)
            host = run_in(unique("tapio-host"), ("v2",), prog_out)
            # A process in scope after them, so their events have been decided.
            last = run_in("system.slice/docker-%s.scope" % kept_id, ("v2",), prog)
            c.wait_event(type="process.exit", pid=last, timeout=20)
            c.stop()
            for pid, what in ((other, "another container"), (host, "the host")):
                check(not c.find(pid=pid), "%s got through: %r" % (what, c.find(pid=pid)[:2]))
            stats = exit_stats(c)
            check(stats.get('events_dropped_total{reason="excluded_container"}', 0) >= 4,
                  "container drops not counted: %r" % stats)
            # The trap rule raises on prog_out's execs, which only filtered processes ran.
            check(not any(k.startswith("rules_faults_total") and v for k, v in stats.items()),
                  "a rule ran on a filtered event: %r" % stats)
            check_books_balance(stats)


def test_k8s_namespaces():
    with TempDir() as tmp:
        env, kube = kubelet_env(tmp)
        prog = copy_prog(tmp, "/bin/sleep")
        prefix = unique("kube")[:12]
        sys_path, _ = pod(kube, prefix + "-system", "dns")
        app_path, _ = pod(kube, unique("shop"), "web")
        with Collector("-a", *CATEGORIES, "--set",
                       "filter.exclude_k8s_namespaces=%s-*" % prefix, env=env) as c:
            excluded = run_in(sys_path, ("v1",), prog)
            kept = run_in(app_path, ("v1",), prog)
            host = run_in(unique("tapio-host"), ("v2",), prog)
            for pid in (kept, host):
                c.wait_event(type="process.exit", pid=pid, timeout=20)
            c.stop()
            # Its fork and the shell that moved it ran on the host; from its exec on
            # it was in the pod.
            leaked = c.find(pid=excluded, filename=prog) + c.find(pid=excluded, type="process.exit")
            check(not leaked, "excluded namespace got through: %r" % leaked[:2])
            check(c.find(type="process.exec", pid=kept, filename=prog), "kept pod's exec missing")
            stats = exit_stats(c)
            check(stats.get('events_dropped_total{reason="excluded_k8s_namespace"}', 0) >= 2,
                  "namespace drops not counted: %r" % stats)
            check_books_balance(stats)


if __name__ == "__main__":
    require_root()
    run_tests([test_containers_by_id_prefix_and_name, test_k8s_namespaces])
