"""Least privilege at run time: once its programs are attached the agent
keeps only CAP_BPF (CAP_SYS_ADMIN on kernels without it), CAP_SYS_PTRACE
and CAP_DAC_READ_SEARCH, in every thread, and says so; it still reloads
rules, reads /proc of other users' processes and sees events. It runs as
a non-root user given CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE and
CAP_DAC_READ_SEARCH as ambient capabilities (setpriv), the way a systemd
unit or a DaemonSet starts it. One agent per case, process family only."""
import os
import re
import shutil
import signal
import subprocess
import tempfile

from tapio import Collector, TempDir, check, require_root, run_tests, unique

CAP_DAC_READ_SEARCH, CAP_SYS_PTRACE, CAP_SYS_ADMIN, CAP_BPF = 2, 19, 21, 39
NOBODY = 65534


def expected_mask():
    last = int(open("/proc/sys/kernel/cap_last_cap").read())
    keep = 1 << CAP_DAC_READ_SEARCH | 1 << CAP_SYS_PTRACE
    return keep | (1 << CAP_BPF if last >= CAP_BPF else 1 << CAP_SYS_ADMIN)


def thread_caps(pid):
    """{tid: (comm, CapEff, CapPrm, CapBnd, CapAmb, NoNewPrivs)} of every thread."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            status = open("/proc/%d/task/%s/status" % (pid, tid)).read()
            comm = open("/proc/%d/task/%s/comm" % (pid, tid)).read().strip()
        except OSError:
            continue
        f = dict(re.findall(r"^(Cap\w+|NoNewPrivs):\s*([0-9a-f]+)$", status, re.M))
        out[int(tid)] = (comm, int(f["CapEff"], 16), int(f["CapPrm"], 16),
                         int(f["CapBnd"], 16), int(f["CapAmb"], 16), int(f["NoNewPrivs"]))
    return out


def check_threads(c, mask, bounding=True):
    """Every thread: effective = permitted = mask, no ambient, no_new_privs;
    the bounding set shrunk too where the agent could (root: CAP_SETPCAP)."""
    caps = thread_caps(c.proc.pid)
    check(len(caps) >= 3, "expected several threads, got %r" % caps)
    for tid, (comm, eff, prm, bnd, amb, nnp) in caps.items():
        check(eff == mask and prm == mask,
              "thread %d (%s) has CapEff %x CapPrm %x, want %x" % (tid, comm, eff, prm, mask))
        check(nnp == 1, "thread %d (%s) without no_new_privs" % (tid, comm))
        check(not bounding or bnd & ~mask == 0, "thread %d (%s) bounding set %x" % (tid, comm, bnd))
        check(amb & ~mask == 0, "thread %d (%s) ambient set %x" % (tid, comm, amb))
    return len(caps)


def exec_marker(tmp):
    """Run a uniquely named copy of /bin/true; its exec event is our proof."""
    name = unique("tpcap")[:15]
    path = os.path.join(tmp, name)
    shutil.copy("/bin/true", path)
    os.chmod(path, 0o755)
    subprocess.run([path], check=True)
    return name, path


def rules_in(tmp, name, owner=None):
    d = os.path.join(tmp, "rules")
    os.mkdir(d, 0o755)
    with open(os.path.join(d, "r.lua"), "w") as f:
        f.write('rule { name = "%s", events = { "process.exec" }, '
                'when = function(e) return e.comm == "%s" end, output = "${comm}" }\n'
                % (name, name))
    return d


def reload_and_see(c, tmp, d):
    """SIGHUP after the drop: the reload works, and so does the new rule."""
    name = unique("tpcap")[:15]
    with open(os.path.join(d, "r.lua"), "w") as f:
        f.write('rule { name = "%s", events = { "process.exec" }, '
                'when = function(e) return e.comm == "%s" end, output = "${comm}" }\n'
                % (name, name))
    c.signal(signal.SIGHUP)
    c.wait_log("rules reloaded", timeout=30)
    path = os.path.join(tmp, name)
    shutil.copy("/bin/true", path)
    os.chmod(path, 0o755)
    subprocess.run([path], check=True)
    c.wait_event(rule=name, timeout=20)


def test_root_keeps_only_the_runtime_set():
    mask = expected_mask()
    with TempDir() as tmp:
        d = rules_in(tmp, "noop")
        with Collector("-k", "categories=process", "-a", "-R", d,
                       "--server", "127.0.0.1:1", "--set", "delivery.drain_timeout=0s") as c:
            line = c.wait_log("capabilities: kept")
            check("cap_bpf" in line and "cap_sys_ptrace" in line and "cap_dac_read_search" in line
                  and "dropped in every thread" in line, line)
            n = check_threads(c, mask)  # gRPC's threads too
            # /proc of a root process (exe) and a reload still work.
            name, path = exec_marker(tmp)
            e = c.wait_event(type="process.exec", comm=name, timeout=20)
            check(e.get("exe") == path, "exe %r, want %r" % (e.get("exe"), path))
            reload_and_see(c, tmp, d)
            check_threads(c, mask)  # the reload thread inherited the reduced sets
            check(c.stop() == 0, "exit code")
            print("  %d threads, each CapEff=CapPrm=%x" % (n, mask))


def test_non_root_with_ambient_capabilities():
    mask = expected_mask()
    caps = "+bpf,+perfmon,+sys_ptrace,+dac_read_search"
    with TempDir() as tmp:
        os.chmod(tmp, 0o755)
        raw = tempfile.mkdtemp(prefix="tapio-raw-")
        os.chown(raw, NOBODY, NOBODY)
        d = rules_in(tmp, "noop")
        try:
            with Collector("-k", "categories=process", "-a", "-R", d, "--raw-dir", raw,
                           wrap=["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
                                 "--clear-groups", "--inh-caps=" + caps,
                                 "--ambient-caps=" + caps]) as c:
                check(int(open("/proc/%d/status" % c.proc.pid).read().split("Uid:")[1].split()[1])
                      == NOBODY, "not running as nobody")
                c.wait_log("capabilities: kept")
                check_threads(c, mask, bounding=False)
                name, path = exec_marker(tmp)
                e = c.wait_event(type="process.exec", comm=name, timeout=20)
                check(e.get("uid") == 0 and e.get("exe") == path,
                      "a root exec seen by the non-root agent: %r" % e)
                reload_and_see(c, tmp, d)
                check(c.stop() == 0, "exit code")
            segs = [f for f in os.listdir(raw) if f.endswith(".seg")]
            check(segs and all(os.stat(os.path.join(raw, f)).st_uid == NOBODY for f in segs),
                  "raw segments written as nobody: %r" % segs)
        finally:
            shutil.rmtree(raw, ignore_errors=True)


def test_non_root_loads_every_family_with_and_without_typed_loads():
    """Non-root, every family loads, from the build with typed loads and
    from the one without kfuncs that kernels before 6.2 get
    (TAPIO_TEST_NO_TYPED_BPF=1, bpf/common.bpf.h). A weak kfunc missing
    from the kernel made libbpf 1.1 list the modules' BTF, which needs
    CAP_SYS_ADMIN: no object holding one could load without it."""
    from tapio import SOURCE_DIR
    build = os.environ.get("TAPIO_BUILD_DIR", os.path.join(SOURCE_DIR, "build"))
    families = len([f for f in os.listdir(os.path.join(build, "bpf")) if f.endswith("_nk.bpf.o")])
    caps = "+bpf,+perfmon,+sys_ptrace,+dac_read_search"
    check(families >= 7, "%d families built without kfuncs in %s/bpf" % (families, build))
    with TempDir() as tmp:
        os.chmod(tmp, 0o755)
        d = rules_in(tmp, "noop")
        for knob in ("0", "1"):
            with Collector("-a", "-R", d, "--raw-dir", "off", "-o", "none",
                           env={"TAPIO_TEST_NO_TYPED_BPF": knob},
                           wrap=["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
                                 "--clear-groups", "--inh-caps=" + caps,
                                 "--ambient-caps=" + caps]) as c:
                line = c.wait_log("probe families loaded")
                check(c.stop() == 0, "exit code")
            failed = [l for l in c.log if "load failed" in l or "could not be loaded" in l]
            check(not failed, "TAPIO_TEST_NO_TYPED_BPF=%s, non-root: %r" % (knob, failed))
            m = re.search(r"eBPF: (\d+) probe families loaded", line or "")
            check(m and int(m.group(1)) == families,
                  "TAPIO_TEST_NO_TYPED_BPF=%s, non-root: %r, want %d families" % (knob, line, families))


if __name__ == "__main__":
    require_root()
    run_tests([test_root_keeps_only_the_runtime_set, test_non_root_with_ambient_capabilities,
               test_non_root_loads_every_family_with_and_without_typed_loads])
