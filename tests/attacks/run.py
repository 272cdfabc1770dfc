#!/usr/bin/python3
"""The attack corpus and the benign corpus against one collector running
the security preset.

    tests/attacks/run.py [--bin build/tapio-collector] [--check] [--json FILE]
                         [--attacks-only | --benign-only] [PATTERN...]

Starts ONE `tapio-collector --preset security -o json` (its own raw dir,
metrics on 127.0.0.1:0), then runs every script of tests/attacks/<tactic>/
and tests/benign/ one after the other, each in a cgroup of its own (and its
own session). An alert belongs to a script when it comes from that cgroup, or
from a process the script's processes forked while it ran (a script may move
a process elsewhere, e.g. into a container's cgroup). Other processes run on
this machine: nothing else counts.

An attack script names the rules it must fire in a header line
`# expect: rule_a, rule_b` (all of them); it is "detected" when every one
fired for it. A benign script must raise nothing at warning or above; its
notices are counted and listed. Prints one table per corpus and the
detection rate; with --check, exits 1 unless every attack was detected and
the benign corpus raised nothing at warning or above.

Each script gets in its environment: ATTACK_TMP (a private directory,
removed afterwards), ATTACK_USER / ATTACK_UID / ATTACK_GID / ATTACK_HOME (a
throwaway user made for this run and removed at its end), ATTACK_ID (unique
to this run: put it in every name you create), ATTACK_LIB (lib.sh, the
helpers: undo stack, as_user, append_line), TAPIO_SOURCE_DIR.
"""
import argparse
import fnmatch
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "integration"))

import cgtest  # noqa: E402
import tapio  # noqa: E402

ATTACK_DIR = HERE
BENIGN_DIR = os.path.join(SOURCE_DIR, "tests", "benign")
SEVERITIES = ["debug", "info", "notice", "warning", "error", "critical"]
HEADER = re.compile(r"^#\s*(expect|mitre|desc|timeout):\s*(.*?)\s*$")
DEFAULT_TIMEOUT = 30
# After the last script, how long an expected alert may take to arrive.
ALERT_WAIT = 15


def sev_rank(s):
    return SEVERITIES.index(s) if s in SEVERITIES else -1


class Script:
    def __init__(self, path, kind):
        self.path = path
        self.kind = kind  # "attack" or "benign"
        base = ATTACK_DIR if kind == "attack" else BENIGN_DIR
        self.name = os.path.relpath(path, base)
        if kind == "benign":
            self.name = "benign/" + self.name
        self.expect, self.mitre, self.desc = [], [], ""
        self.counts = {}  # rule -> processes it must fire for (rule*N)
        self.timeout = DEFAULT_TIMEOUT
        self.problems = []
        self.rc = None
        self.output = ""
        self.start_ns = self.end_ns = 0
        self.cgroup_id = None
        self.pid = None
        self.alerts = []
        self.duration = 0.0
        self._parse()

    def _parse(self):
        with open(self.path, errors="replace") as f:
            for n, line in enumerate(f):
                if n > 40:
                    break
                m = HEADER.match(line)
                if not m:
                    continue
                key, val = m.groups()
                if key == "expect":
                    for item in (r.strip() for r in val.split(",")):
                        if not item:
                            continue
                        m = re.match(r"^([A-Za-z0-9_]+)(?:\s*\*\s*(\d+))?$", item)
                        if not m:
                            self.problems.append("bad expect item %r (want rule or rule*N)"
                                                 % item)
                            continue
                        self.expect.append(m.group(1))
                        self.counts[m.group(1)] = int(m.group(2) or 1)
                elif key == "mitre":
                    self.mitre += [t.strip() for t in val.split(",") if t.strip()]
                elif key == "desc":
                    self.desc = val
                elif key == "timeout":
                    self.timeout = int(val)
        if not os.access(self.path, os.X_OK):
            self.problems.append("not executable (chmod +x)")
        if self.kind == "attack" and not self.expect:
            self.problems.append("no '# expect: rule[, rule]' header line")
        if self.kind == "benign" and self.expect:
            self.problems.append("a benign script expects no rule")

    def expect_text(self):
        return ", ".join(r if self.counts.get(r, 1) == 1 else "%s*%d" % (r, self.counts[r])
                         for r in self.expect)

    def fired(self):
        return sorted({a["rule"] for a in self.alerts})

    def missing(self):
        """Expected rules that did not fire for as many processes as asked."""
        pids = {}
        for a in self.alerts:
            pids.setdefault(a["rule"], set()).add(a.get("pid"))
        return ["%s*%d (got %d)" % (r, self.counts[r], len(pids.get(r, ())))
                if self.counts.get(r, 1) > 1 else r
                for r in self.expect if len(pids.get(r, ())) < self.counts.get(r, 1)]

    def result(self):
        if self.problems:
            return "error"
        if self.rc is None:
            return "not run"
        if self.rc == 77:
            return "skipped"
        if self.rc != 0:
            return "error"
        if self.kind == "attack":
            return "missed" if self.missing() else "detected"
        return "alert" if self.loud() else ("notice" if self.alerts else "quiet")

    def loud(self):
        """Alerts at warning or above."""
        return [a for a in self.alerts if sev_rank(a.get("severity")) >= sev_rank("warning")]


def discover(patterns, attacks=True, benign=True):
    found = []
    if attacks:
        for d in sorted(os.listdir(ATTACK_DIR)):
            full = os.path.join(ATTACK_DIR, d)
            if os.path.isdir(full) and not d.startswith((".", "_")):
                for f in sorted(os.listdir(full)):
                    if f.endswith((".sh", ".py")):
                        found.append(Script(os.path.join(full, f), "attack"))
    if benign and os.path.isdir(BENIGN_DIR):
        for f in sorted(os.listdir(BENIGN_DIR)):
            if f.endswith((".sh", ".py")):
                found.append(Script(os.path.join(BENIGN_DIR, f), "benign"))
    if patterns:
        found = [s for s in found if any(fnmatch.fnmatch(s.name, "*%s*" % p) for p in patterns)]
    return found


class Agent(tapio.Collector):
    """The collector, keeping from its stdout only what attribution needs:
    alerts, forks (the process trees) and the flush markers' events."""

    def __init__(self, binary, marker):
        self.marker = marker
        self.alerts = []
        self.forks = []  # (ts, parent pid, child pid)
        self.marks = set()
        # Every event reaches stdout (no importance threshold): the runner
        # needs the forks. What the rules see and raise is the preset's.
        # Starting (loading and attaching ~80 programs) takes up to a minute
        # on a loaded 2-core machine.
        super().__init__("--preset", "security", "--set", "rules.importance_threshold=0",
                         binary=binary, timeout=180)

    def _read_stdout(self):
        for raw in self.proc.stdout:
            if b'"rule"' not in raw and b'"process.fork"' not in raw and self.marker not in raw:
                continue
            try:
                e = json.loads(raw)
            except ValueError:
                with self._cv:
                    self.bad_lines.append(raw[:200])
                continue
            with self._cv:
                if "rule" in e:
                    self.alerts.append(e)
                elif e.get("type") == "process.fork":
                    self.forks.append((e.get("ts", 0), e.get("parent_pid"), e.get("pid")))
                for a in e.get("argv") or []:
                    if isinstance(a, str) and a.startswith(self.marker.decode()):
                        self.marks.add(a)
                self._cv.notify_all()


def make_user(run_id):
    name = "tpatk" + run_id[:8]
    subprocess.run(["useradd", "-m", "-s", "/bin/bash", "-K", "UMASK=022", name], check=True)
    pw = __import__("pwd").getpwnam(name)
    return name, pw.pw_uid, pw.pw_gid, pw.pw_dir


def drop_user(name):
    subprocess.run(["userdel", "-r", "-f", name], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def stop_script(p):
    """TERM a script's process group (the script undoes what it did) and
    give it 5 s."""
    os.killpg(p.pid, signal.SIGTERM)
    try:
        p.wait(5)
    except subprocess.TimeoutExpired:
        pass


def empty_cgroup(path):
    """Kill whatever the script left running in its cgroup, then remove it."""
    kill = os.path.join(path, "cgroup.kill")
    for _ in range(100):
        try:
            with open(os.path.join(path, "cgroup.procs")) as f:
                pids = [int(p) for p in f.read().split()]
        except FileNotFoundError:
            return
        if not pids:
            break
        if os.path.exists(kill):
            with open(kill, "w") as f:
                f.write("1")
        else:
            for p in pids:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        time.sleep(0.05)
    for _ in range(50):
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.1)


class Runner:
    def __init__(self, binary, scripts, verbose=False):
        self.binary = binary
        self.scripts = scripts
        self.verbose = verbose
        self.run_id = uuid.uuid4().hex[:12]
        self.marker = ("tapio-attacks-flush-%s" % self.run_id).encode()
        self.root = cgtest.v2_root()
        if self.root is None:
            raise RuntimeError("no cgroup v2 (unified) hierarchy: the runner attributes "
                               "alerts by cgroup")
        self.cg_base = os.path.join(self.root, "tapio-attacks-" + self.run_id)
        self.tmp = tempfile.mkdtemp(prefix="tapio-attacks-")
        os.chmod(self.tmp, 0o755)
        self.user = None
        self.agent = None
        self.duration = 0.0
        self.losses = "unknown"
        self.kernel_lost = None

    def run(self):
        t0 = time.monotonic()
        os.mkdir(self.cg_base)
        try:
            self.user = make_user(self.run_id)
            self.agent = Agent(self.binary, self.marker)
            for s in self.scripts:
                if not s.problems:
                    self.run_one(s)
            self.flush()
            self.wait_expected()
            self.attribute()
            self.agent.stop()
            self.read_losses()
        finally:
            if self.agent:
                self.agent.__exit__()
            if self.user:
                drop_user(self.user[0])
            shutil.rmtree(self.tmp, ignore_errors=True)
            try:
                os.rmdir(self.cg_base)
            except OSError:
                pass
        self.duration = time.monotonic() - t0

    def read_losses(self):
        """What the collector lost, from its exit summary: a script missed
        while the kernel dropped records may be a loss, not a rule's gap."""
        line = next((l for l in reversed(self.agent.log) if "summary (exit" in l), "")
        m = re.search(r"lost: ([^(]*?)\s*(?:\(|$)", line)
        self.losses = m.group(1).rstrip("; ") if m else "unknown (no exit summary)"
        k = re.search(r"lost: (\d+) in the kernel", line)
        self.kernel_lost = int(k.group(1)) if k else None

    def env_for(self, s, tmp):
        name, uid, gid, home = self.user
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TAPIO_", "ATTACK_"))}
        env.update({
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "ATTACK_TMP": tmp, "ATTACK_ID": self.run_id, "ATTACK_USER": name,
            "ATTACK_UID": str(uid), "ATTACK_GID": str(gid), "ATTACK_HOME": home,
            "ATTACK_LIB": os.path.join(ATTACK_DIR, "lib.sh"),
            "TAPIO_SOURCE_DIR": SOURCE_DIR, "LC_ALL": "C.UTF-8",
        })
        return env

    def run_one(self, s):
        slug = re.sub(r"[^A-Za-z0-9_.-]", "_", s.name)
        cg = os.path.join(self.cg_base, slug)
        os.mkdir(cg)
        s.cgroup_id = os.stat(cg).st_ino
        tmp = os.path.join(self.tmp, slug)
        os.mkdir(tmp)
        os.chmod(tmp, 0o755)
        log = os.path.join(self.tmp, slug + ".log")
        s.start_ns = time.time_ns()
        t = time.monotonic()
        with open(log, "wb") as out:
            # The shell moves itself into the cgroup, then becomes the script:
            # everything the script starts inherits the cgroup.
            p = subprocess.Popen(
                ["/bin/sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$1"', cg, s.path],
                cwd=tmp, env=self.env_for(s, tmp), stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True)
            s.pid = p.pid
            try:
                s.rc = p.wait(s.timeout)
            except subprocess.TimeoutExpired:
                stop_script(p)
                s.rc = -1
                s.problems.append("timed out after %ss" % s.timeout)
            except BaseException:
                # The run is stopped (TERM, Ctrl-C): the script undoes what
                # it did, and its cgroup goes with whatever it left running.
                stop_script(p)
                empty_cgroup(cg)
                raise
        s.end_ns = time.time_ns()
        s.duration = time.monotonic() - t
        empty_cgroup(cg)
        with open(log, "rb") as f:
            s.output = f.read().decode("utf-8", "replace")
        if self.verbose or (s.rc not in (0, 77)):
            sys.stderr.write("  [%s] rc=%s %.1fs\n" % (s.name, s.rc, s.duration))
            for line in s.output.splitlines()[-15:]:
                sys.stderr.write("  [%s] %s\n" % (s.name, line))
        shutil.rmtree(tmp, ignore_errors=True)

    def flush(self):
        """Wait until the collector has seen an event made after the last
        script: what came before it has been through the rules by then."""
        mark = "%s-%s" % (self.marker.decode(), uuid.uuid4().hex[:6])

        def poke():
            subprocess.run(["/bin/true", mark])
        poke()
        self.agent.poke = poke
        self.agent.wait_until(lambda: mark in self.agent.marks, timeout=30,
                              what="the flush marker's exec")
        self.agent.poke = None

    def attribute(self):
        with self.agent._cv:
            alerts = list(self.agent.alerts)
            forks = list(self.agent.forks)
        by_cg = {s.cgroup_id: s for s in self.scripts if s.cgroup_id}
        # pid -> script, from the forks each script's processes made while it ran
        owner = {}
        spans = sorted((s.start_ns, s.end_ns, s) for s in self.scripts if s.pid)
        for s in self.scripts:
            s.alerts = []
        for ts, parent, child in sorted(forks, key=lambda f: f[0]):
            for start, end, s in spans:
                if start <= ts <= end and (parent == s.pid or owner.get(parent) is s):
                    owner[child] = s
                    break
        for a in alerts:
            s = by_cg.get(a.get("cgroup_id"))
            if s is None:
                cand = owner.get(a.get("pid"))
                if cand is not None and cand.start_ns <= a.get("ts", 0) <= cand.end_ns + 10 ** 10:
                    s = cand
            if s is not None:
                s.alerts.append(a)

    def wait_expected(self):
        attacks = [s for s in self.scripts if s.kind == "attack" and s.rc == 0]
        deadline = time.monotonic() + ALERT_WAIT
        while time.monotonic() < deadline:
            self.attribute()
            if all(not s.missing() for s in attacks):
                return
            time.sleep(0.3)


def table(rows, header):
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    fmt = "  ".join("%%-%ds" % w for w in widths)
    lines = [fmt % tuple(header), fmt % tuple("-" * w for w in widths)]
    lines += [(fmt % tuple(r)).rstrip() for r in rows]
    return "\n".join(lines)


def report(scripts, duration, losses="unknown", kernel_lost=None):
    out = []
    attacks = [s for s in scripts if s.kind == "attack"]
    benign = [s for s in scripts if s.kind == "benign"]
    if attacks:
        rows = []
        for s in attacks:
            others = [r for r in s.fired() if r not in s.expect]
            note = "; ".join(s.problems) or ("missing " + ", ".join(s.missing())
                                              if s.missing() and s.rc == 0 else "")
            rows.append((s.name, s.result(), s.expect_text(),
                         ", ".join(others) or "-", note))
        out.append("Attack corpus (tapio-collector --preset security)")
        out.append(table(rows, ("script", "result", "expected", "also fired", "note")))
        det = sum(1 for s in attacks if s.result() == "detected")
        out.append("detected %d of %d attack scripts (%.1f%%)" % (det, len(attacks),
                                                                  100.0 * det / len(attacks)))
        out.append("")
    if benign:
        rows = []
        notices = []
        for s in benign:
            rows.append((s.name, s.result(), len(s.loud()), len(s.alerts) - len(s.loud()),
                         ", ".join(s.fired()) or "-", "; ".join(s.problems)))
            for a in s.alerts:
                text = a.get("output") or ""
                if len(text) > 160:
                    text = text[:157] + "..."
                notices.append("  %s %s [%s]: %s" % (s.name, a.get("rule"), a.get("severity"),
                                                     text))
        out.append("Benign corpus (ordinary work under the same preset)")
        out.append(table(rows, ("script", "result", "warning+", "below", "rules", "note")))
        loud = sum(len(s.loud()) for s in benign)
        quiet = sum(len(s.alerts) for s in benign) - loud
        out.append("false alarms at warning or above: %d; alerts below warning: %d" % (loud, quiet))
        out.extend(notices)
        out.append("")
    out.append("%d scripts in %.1f s; the collector lost: %s" % (len(scripts), duration, losses))
    if kernel_lost and any(s.kind == "attack" and s.result() != "detected" for s in scripts):
        out.append("the kernel dropped %d records while the scripts ran (the collector fell "
                   "behind): a missed script may be a loss, not a rule's gap" % kernel_lost)
    return "\n".join(out)


def passed(scripts):
    for s in scripts:
        if s.kind == "attack" and s.result() != "detected":
            return False
        if s.kind == "benign" and s.result() not in ("quiet", "notice"):
            return False
    return True


def to_json(scripts, duration, kernel_lost=None):
    return {
        "duration_s": round(duration, 1), "kernel_lost": kernel_lost,
        "scripts": [{
            "name": s.name, "kind": s.kind, "result": s.result(), "expect": s.expect,
            "mitre": s.mitre, "fired": s.fired(), "rc": s.rc, "problems": s.problems,
            "seconds": round(s.duration, 2),
            "alerts": [{k: a.get(k) for k in ("rule", "severity", "pid", "comm", "output")}
                       for a in s.alerts],
        } for s in scripts],
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("patterns", nargs="*", help="run only scripts whose name contains one")
    ap.add_argument("--bin", default=tapio.BIN, help="the tapio-collector binary")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 unless every attack is detected and the benign corpus is quiet")
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument("--attacks-only", action="store_true")
    ap.add_argument("--benign-only", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every script's output")
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("SKIP: the attack corpus needs root")
        return 77
    scripts = discover(args.patterns, not args.benign_only, not args.attacks_only)
    if not scripts:
        print("no scripts match")
        return 1
    # A TERM (a stopped CI job, a user's kill) ends the run through its
    # clean-up: the throwaway user, the temp directory, the agent.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    r = Runner(args.bin, scripts, args.verbose)
    r.run()
    print(report(scripts, r.duration, r.losses, r.kernel_lost))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(to_json(scripts, r.duration, r.kernel_lost), f, indent=1)
    sys.stdout.flush()
    if args.check and not passed(scripts):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
