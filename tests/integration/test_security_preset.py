"""The security preset (its rules: rules/default and rules/security) detects
what it promises on the real kernel: changes under /etc, to system binaries
and to SSH keys (file integrity monitoring), password hashes read, a denied
access to them, an unprivileged process becoming root, ptrace, fileless
execution, a cgroup release_agent written, an eBPF program loaded, a user
namespace made by an unprivileged process. And under a flood from one
process, every one of its alerts arrives."""
import ctypes
import os
import re
import shutil
import subprocess
import sys
import time

from tapio import Collector, TempDir, check, require_root, run_tests, unique

SETPRIV = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def py(code, *prefix):
    subprocess.run(list(prefix) + ["/usr/bin/python3", "-c", code], check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def alerts(c, rule, **match):
    return [e for e in c.find(rule=rule, **match)]


def wait_alert(c, rule, pred=lambda e: True, timeout=20):
    return c.wait_until(lambda: next((e for e in c.find(rule=rule) if pred(e)), None),
                        timeout=timeout, what="alert %s" % rule)


def test_detections():
    tag = unique("tp")
    with TempDir() as tmp, Collector("--preset", "security") as c:
        # File integrity: /etc, a system binary, SSH keys.
        etc = "/etc/%s.conf" % tag
        open(etc, "w").close()
        os.unlink(etc)
        wait_alert(c, "system_config_changed", lambda e: e.get("path") == etc and e["type"] == "file.open")
        wait_alert(c, "system_config_changed", lambda e: e.get("path") == etc and e["type"] == "file.unlink")
        binary = "/usr/local/bin/%s" % tag
        shutil.copy("/bin/true", binary)
        os.rename(binary, binary + ".new")
        os.unlink(binary + ".new")
        wait_alert(c, "system_binary_changed", lambda e: e.get("path") == binary)
        wait_alert(c, "system_binary_replaced", lambda e: e.get("newpath") == binary + ".new")
        home = "/home/%s" % tag
        try:
            os.makedirs(home + "/.ssh")
            with open(home + "/.ssh/authorized_keys", "w") as f:
                f.write("ssh-ed25519 AAAA test\n")
        finally:
            shutil.rmtree(home, ignore_errors=True)
        wait_alert(c, "ssh_authorized_keys_modified", lambda e: e.get("path") == home + "/.ssh/authorized_keys")

        # Credentials: a read by a program that has no business with them, and a denied one.
        p = subprocess.Popen(["/usr/bin/python3", "-c", "open('/etc/shadow').read()"])
        p.wait()
        wait_alert(c, "password_hashes_read", lambda e: e["pid"] == p.pid)
        p = subprocess.Popen(SETPRIV + ["/bin/cat", "/etc/shadow"], stderr=subprocess.DEVNULL)
        p.wait()
        wait_alert(c, "protected_file_access_denied", lambda e: e["pid"] == p.pid and e["uid"] == 65534)

        # Privilege: nobody with CAP_SETUID becomes root.
        p = subprocess.Popen(SETPRIV + ["--inh-caps=+setuid", "--ambient-caps=+setuid",
                                        "/usr/bin/python3", "-c", "import os; os.setuid(0)"])
        p.wait()
        e = wait_alert(c, "unprivileged_process_became_root", lambda e: e["pid"] == p.pid)
        check(e["old_uid"] == 65534 and e["new_uid"] == 0, "setuid alert %r" % e)

        # ptrace attach from a program that is not a debugger.
        target = subprocess.Popen(["/bin/sleep", "30"])
        code = ("import ctypes, os, time\nlibc = ctypes.CDLL(None, use_errno=True)\n"
                "assert libc.ptrace(16, %d, 0, 0) == 0\nos.waitpid(%d, 0)\n"
                "libc.ptrace(17, %d, 0, 0)\n") % (target.pid, target.pid, target.pid)
        p = subprocess.Popen(["/usr/bin/python3", "-c", code])
        p.wait()
        target.kill()
        target.wait()
        wait_alert(c, "ptrace_attach", lambda e: e["pid"] == p.pid and e["target_pid"] == target.pid)

        # Fileless: run a copy of /bin/true from a memfd.
        code = ("import os\nfd = os.memfd_create('x', 0)\n"
                "os.write(fd, open('/bin/true', 'rb').read())\n"
                "os.execv('/proc/self/fd/%d' % fd, ['x'])\n")
        p = subprocess.Popen(["/usr/bin/python3", "-c", code])
        p.wait()
        wait_alert(c, "fileless_execution", lambda e: e["pid"] == p.pid)

        # A write to a release_agent (anywhere: the file's name is the tell).
        agent = os.path.join(tmp, "release_agent")
        open(agent, "w").close()
        wait_alert(c, "cgroup_release_agent_written", lambda e: e.get("path") == agent)

        # An eBPF program loaded by something that is not systemd.
        subprocess.run(["/usr/bin/bpftrace", "-e", "BEGIN { exit(); }"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)
        wait_alert(c, "bpf_program_loaded", lambda e: e["comm"] == "bpftrace", timeout=30)

        # An unprivileged user namespace.
        p = subprocess.Popen(SETPRIV + ["/usr/bin/unshare", "-U", "/bin/true"])
        p.wait()
        if p.returncode == 0:
            wait_alert(c, "user_namespace_by_unprivileged", lambda e: e["pid"] == p.pid)
        else:
            print("  (unprivileged user namespaces are off here: not checked)")

        # Every alert names its rule, severity, importance and tags.
        for e in c.find():
            if "rule" in e:
                for k in ("severity", "importance", "tags", "output"):
                    check(k in e, "alert without %s: %r" % (k, e))
        c.stop()


def test_alerts_survive_a_flood():
    # One process floods failed execs and, every 500 of them, reads the
    # password hashes: every one of its 200 alerts arrives, and every event
    # of the flood is accounted for (decoded, or counted as a kernel drop).
    # The collector's own threshold (the dual path): the failed execs are
    # stored raw, not printed, and only the alerts reach the reader.
    with TempDir() as tmp, Collector("--preset", "security", "-k",
                                     "categories=process,file", threshold=None) as c:
        missing = os.path.join(tmp, unique("flood"))
        code = ("import os\nfor i in range(100000):\n"
                "    try:\n        os.execv(%r, [%r])\n    except OSError:\n        pass\n"
                "    if i %% 500 == 0:\n        open('/etc/shadow').close()\n") % (missing, missing)
        p = subprocess.Popen(["/usr/bin/python3", "-c", code])
        p.wait()
        c.wait_until(lambda: len(alerts(c, "password_hashes_read", pid=p.pid)) >= 200, timeout=30,
                     what="200 alerts")
        c.stop()
        check(len(alerts(c, "password_hashes_read", pid=p.pid)) == 200, "alerts lost")
        # A flood of failed execs is not important: none of it on stdout.
        printed = len(c.find(type="process.exec", pid=p.pid, filename=missing))
        check(printed == 0, "%d failed execs of the flood scored >= 0.7" % printed)
        line = c.wait_log("stats (exit):")
        execs = int(re.search(r'events_total\{type="process.exec"\}=(\d+)', line).group(1))
        m = re.search(r'kernel_drops_total\{category="process"\}=(\d+)', line)
        dropped = int(m.group(1)) if m else 0
        check(execs + dropped >= 100000, "flood not accounted for: %d decoded, %d dropped" % (execs, dropped))


if __name__ == "__main__":
    require_root()
    run_tests([test_detections, test_alerts_survive_a_flood])
