"""Each preset loads, attaches its probe families and does what it promises
in the kernel: the security preset keeps pseudo-file-system reads and
failed opens (a denied open is the interesting one), high-performance drops
both before they leave the kernel, default keeps them; and /healthz names
no problem of the preset's making."""
import os
import re
import subprocess
import time

from tapio import Collector, TempDir, check, require_root, run_tests, unique

FAMILIES = ("process", "file")  # the families this build has; every preset loads them


def probe_files(tmp):
    """A child that opens a new file, /proc/self/status and a missing file."""
    mine = os.path.join(tmp, unique("mine"))
    missing = os.path.join(tmp, unique("missing"))
    code = ("import os\n"
            "open(%r, 'w').close()\n"
            "open('/proc/self/status').read()\n"
            "try:\n    open(%r)\nexcept OSError:\n    pass\n") % (mine, missing)
    p = subprocess.Popen(["/usr/bin/python3", "-c", code])
    p.wait()
    return p.pid, mine, missing


def run_preset(name):
    with TempDir() as tmp, Collector("--preset", name, "-a") as c:
        ready = c.wait_log("ready:")
        m = re.search(r"ready: (\d+) programs attached \(categories: ([a-z,]+)\)", ready)
        check(m, "ready line %r" % ready)
        check(int(m.group(1)) > 0, "no program attached: %r" % ready)
        for fam in FAMILIES:
            check(fam in m.group(2).split(","), "%s: family %s not loaded: %r" % (name, fam, ready))
        pid, mine, missing = probe_files(tmp)
        c.wait_event(type="file.open", pid=pid, path=mine, timeout=20)
        c.wait_event(type="process.exit", pid=pid, timeout=20)
        time.sleep(1)  # anything of this child still in flight arrives
        proc = [e for e in c.find(type="file.open", pid=pid) if e["path"].startswith("/proc/")]
        failed = c.find(type="file.open", pid=pid, path=missing)
        status, _, body = c.http_get("/healthz?format=json")
        c.stop()
        return proc, failed, status, body


def test_security_keeps_everything():
    proc, failed, status, body = run_preset("security")
    check(proc, "security: the /proc open was dropped")
    check(failed and failed[0]["ret"] == -2, "security: the failed open was dropped: %r" % failed)
    check("kernel_drops" not in body, "security: %s" % body)


def test_high_performance_filters_in_the_kernel():
    proc, failed, status, body = run_preset("high-performance")
    check(not proc, "high-performance: /proc open reached user space: %r" % proc[:1])
    check(not failed, "high-performance: failed open reached user space: %r" % failed[:1])


def test_default_keeps_everything():
    proc, failed, status, body = run_preset("default")
    check(proc and failed, "default: proc %d failed %d" % (len(proc), len(failed)))


def test_high_performance_samples_without_all_events():
    # Without -a the sampler runs: with the preset's sampling, events carry
    # their rate; nothing scores them yet, so they are importance 0 (1 in 10).
    with TempDir() as tmp, Collector("--preset", "high-performance", "--set",
                                     "sampling.burst_protection=false") as c:
        missing = os.path.join(tmp, unique("sampled"))
        code = ("import os\nfor i in range(400):\n    try:\n        os.execv(%r, [%r])\n"
                "    except OSError:\n        pass\n") % (missing, missing)
        subprocess.run(["/usr/bin/python3", "-c", code], check=True)
        kept = c.wait_until(lambda: c.find(type="process.exec", filename=missing), timeout=20,
                            what="a sampled exec")
        check(all(e.get("sample_rate") == 10 for e in kept), "rates %r" % [e.get("sample_rate") for e in kept])
        c.stop()


if __name__ == "__main__":
    require_root()
    run_tests([test_security_keeps_everything, test_high_performance_filters_in_the_kernel,
               test_default_keeps_everything, test_high_performance_samples_without_all_events])
