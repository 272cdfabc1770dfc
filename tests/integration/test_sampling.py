"""Rate limits, sampling and filters on the real kernel: a process flooding
failed execs in its own cgroup cannot hide the events of other processes;
sampled events carry their rate so counts re-scale, whether the kernel or
user space (or both) sampled them; filters keep out what they name; and
the books balance exactly: events in = events passed + events dropped (by
reason), from the exit stats."""
import os
import re
import shutil
import subprocess
import time

from tapio import Collector, TempDir, check, require_root, run_tests, unique

CGROUP_ROOT = "/sys/fs/cgroup/unified"
if not os.path.isdir(CGROUP_ROOT):
    CGROUP_ROOT = "/sys/fs/cgroup"


class Cgroup:
    """A fresh cgroup v2 directory; processes are started inside it."""

    def __enter__(self):
        self.path = os.path.join(CGROUP_ROOT, unique("tapio-test"))
        os.mkdir(self.path)
        return self

    def popen(self, args, **kw):
        # The child moves itself in before it execs the real program.
        return subprocess.Popen(["/bin/sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', self.path] + args, **kw)

    def __exit__(self, *exc):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.rmdir(self.path)
                return
            except OSError:
                time.sleep(0.1)


def flood_code(path, seconds=None, count=None):
    """Python that fails to exec path over and over (one process, one pid)."""
    cond = "time.time() < end" if seconds else "n < %d" % count
    return ("import os, time\nend = time.time() + %r\nn = 0\nwhile %s:\n    n += 1\n"
            "    try:\n        os.execv(%r, [%r])\n    except OSError:\n        pass\n") % (
                seconds or 0, cond, path, path)


def exit_stats(c):
    """The counters of the 'stats (exit)' line as {name{labels}: value}."""
    line = c.wait_log("stats (exit):")
    out = {}
    for m in re.finditer(r'([a-z_]+(?:\{[^}]*\})?)=([0-9.e+-]+)', line.split("stats (exit):", 1)[1]):
        out[m.group(1)] = float(m.group(2))
    return out


def check_books_balance(stats):
    events_in = sum(v for k, v in stats.items() if k.startswith("events_total{"))
    passed = stats.get("events_passed_total", 0)
    dropped = sum(v for k, v in stats.items() if k.startswith("events_dropped_total{"))
    check(events_in > 0, "no events counted: %r" % stats)
    check(events_in == passed + dropped,
          "events in %d != passed %d + dropped %d" % (events_in, passed, dropped))
    return events_in, passed, dropped


def test_flood_does_not_hide_other_processes():
    limits = ["-k", "categories=process", "--set", "rate_limit.per_process=100", "--set", "rate_limit.per_process_burst=100",
              "--set", "rate_limit.per_container=400", "--set", "rate_limit.per_container_burst=400",
              "--set", "rate_limit.global=0"]
    with TempDir() as tmp, Cgroup() as flood_cg, Cgroup() as quiet_cg, Collector(*limits) as c:
        missing = os.path.join(tmp, unique("flood"))
        flooder = flood_cg.popen(["/usr/bin/python3", "-c", flood_code(missing, seconds=4)])
        # While it floods, 20 other processes (in their own cgroup) run a
        # uniquely named program each.
        others = []
        for i in range(20):
            prog = os.path.join(tmp, unique("quiet")[:15])
            shutil.copy("/bin/true", prog)
            p = quiet_cg.popen([prog])
            p.wait()
            others.append((p.pid, prog))
            time.sleep(0.1)
        flooder.wait()
        for pid, prog in others:
            c.wait_event(type="process.exec", pid=pid, filename=prog, timeout=20)
        flood_kept = len(c.find(type="process.exec", pid=flooder.pid, filename=missing))
        c.stop()
        stats = exit_stats(c)
        events_in, passed, dropped = check_books_balance(stats)
        limited = stats.get('events_dropped_total{reason="rate_limit_process"}', 0)
        check(limited > 1000, "the flood was hardly limited: %r dropped" % limited)
        # 100 at once, then 100/s for about 4 s (+ the slack of a slow start).
        check(50 <= flood_kept <= 100 + 100 * 6, "flood kept %d" % flood_kept)
        print("  flood: %d kept, %d dropped by the process limit; in %d = passed %d + dropped %d"
              % (flood_kept, limited, events_in, passed, dropped))


def test_sampled_events_carry_their_rate():
    opts = ["-k", "categories=process", "--set", "sampling.enabled=true", "--set", "sampling.base_rate=0.25",
            "--set", "sampling.burst_protection=false", "--set", "rate_limit.per_process=0",
            "--set", "rate_limit.per_container=0", "--set", "rate_limit.global=0"]
    with TempDir() as tmp, Collector(*opts) as c:
        missing = os.path.join(tmp, unique("sampled"))
        n = 2000
        subprocess.run(["/usr/bin/python3", "-c", flood_code(missing, count=n)], check=True)
        # The last of ours may still be in flight: wait for the count to settle.
        last, stable = -1, 0
        while stable < 3:
            time.sleep(0.5)
            kept = c.find(type="process.exec", filename=missing)
            stable = stable + 1 if len(kept) == last else 0
            last = len(kept)
        check(all(e.get("sample_rate") == 4 for e in kept),
              "sample rates %r" % sorted(set(e.get("sample_rate") for e in kept)))
        # Deterministic 1 in 4 over the exec stream; other processes' execs
        # interleave, so ours are about a quarter.
        check(n / 4 * 0.7 <= len(kept) <= n / 4 * 1.3, "kept %d of %d" % (len(kept), n))
        scaled = sum(e["sample_rate"] for e in kept)
        check(n * 0.7 <= scaled <= n * 1.3, "re-scaled count %d for %d events" % (scaled, n))
        c.stop()
        stats = exit_stats(c)
        check_books_balance(stats)
        check(stats.get('events_dropped_total{reason="sampled"}', 0) >= n / 2, "sampled drops %r" % stats)


def test_scope_keeps_only_the_named_processes():
    with TempDir() as tmp:
        inside, outside = unique("in")[:15], unique("out")[:15]
        paths = {}
        for name in (inside, outside):
            paths[name] = os.path.join(tmp, name)
            shutil.copy("/bin/true", paths[name])
        with Collector("-a", "-k", "categories=process", "--set",
                       "filter.processes=%s,/nonexistent/*" % inside) as c:
            p_out = subprocess.Popen([paths[outside]])
            p_out.wait()
            p_in = subprocess.Popen([paths[inside]])
            p_in.wait()
            c.wait_event(type="process.exec", pid=p_in.pid, timeout=20)
            c.wait_event(type="process.exit", pid=p_in.pid, timeout=20)
            time.sleep(1)
            check(not c.find(pid=p_out.pid, comm=outside), "an out-of-scope event got through")
            c.stop()
            stats = exit_stats(c)
            check(stats.get('events_dropped_total{reason="out_of_scope"}', 0) >= 2,
                  "out-of-scope drops not counted: %r" % stats)
            check_books_balance(stats)


def settled(c, **match):
    """The events matching, once their number stopped changing."""
    last, stable = -1, 0
    while stable < 3:
        time.sleep(0.5)
        got = c.find(**match)
        stable = stable + 1 if len(got) == last else 0
        last = len(got)
    return got


def test_kernel_sampled_events_carry_their_rate():
    n = 2000
    # In the kernel alone (-a: no user-space sampling), then both: the
    # kernel's 1 in 5 and the sampler's 1 in 2 of what it let through.
    for extra, rate in ((["-a"], 5),
                        (["--set", "sampling.enabled=true", "--set", "sampling.base_rate=0.5",
                          "--set", "sampling.burst_protection=false", "--set", "rate_limit.per_process=0",
                          "--set", "rate_limit.per_container=0", "--set", "rate_limit.global=0"], 10)):
        with TempDir() as tmp, Collector("-k", "categories=process", "--set", "programs.process.sample=5",
                                         *extra) as c:
            missing = os.path.join(tmp, unique("ksampled"))
            p = subprocess.Popen(["/usr/bin/python3", "-c", flood_code(missing, count=n)])
            p.wait()
            kept = settled(c, type="process.exec", pid=p.pid, filename=missing)
            check(kept and all(e.get("sample_rate") == rate for e in kept),
                  "rate %d: sample rates %r" % (rate, sorted(set(e.get("sample_rate") for e in kept))))
            # 1 in 5 per CPU of every process event, ours among others.
            check(n / rate * 0.7 <= len(kept) <= n / rate * 1.3, "rate %d: kept %d of %d" % (rate, len(kept), n))
            scaled = sum(e["sample_rate"] for e in kept)
            check(n * 0.7 <= scaled <= n * 1.3, "rate %d: re-scaled count %d for %d events" % (rate, scaled, n))
            c.stop()
            check_books_balance(exit_stats(c))
            print("  kernel 1 in 5%s: %d of %d kept, re-scaled %d" % (
                "" if rate == 5 else " then 1 in 2", len(kept), n, scaled))


def test_min_severity_keeps_only_alerts_at_or_above():
    with TempDir() as tmp:
        loud, quiet = os.path.join(tmp, unique("loud")[:15]), os.path.join(tmp, unique("quiet")[:15])
        for prog in (loud, quiet):
            shutil.copy("/bin/true", prog)
        rules = os.path.join(tmp, "rules")
        os.mkdir(rules)
        with open(os.path.join(rules, "sev.lua"), "w") as f:
            f.write('rule { name = "loud_exec", severity = "warning", events = { "process.exec" },\n'
                    '  when = function(e) return e.filename == %r end, output = "loud ${pid}" }\n'
                    'rule { name = "quiet_exec", severity = "info", events = { "process.exec" },\n'
                    '  when = function(e) return e.filename == %r or e.filename == %r end,\n'
                    '  output = "quiet ${pid}" }\n' % (loud, loud, quiet))
        os.chmod(os.path.join(rules, "sev.lua"), 0o644)
        # -a: filter.min_severity holds even when every event would go out.
        with Collector("-a", "-R", rules, "-k", "categories=process",
                       "--set", "filter.min_severity=warning") as c:
            p_quiet = subprocess.Popen([quiet])
            p_quiet.wait()
            p_loud = subprocess.Popen([loud])
            p_loud.wait()
            c.wait_event(type="process.exec", pid=p_loud.pid, rule="loud_exec", timeout=20)
            time.sleep(1)
            c.stop()
            check(not c.find(pid=p_quiet.pid), "below the minimum: %r" % c.find(pid=p_quiet.pid))
            mine = c.find(pid=p_loud.pid)
            check([e.get("rule") for e in mine] == ["loud_exec"], "loud process: %r" % mine)
            check(mine[0]["severity"] == "warning", "severity %r" % mine[0])
            stats = exit_stats(c)
            # quiet's exec and exit, loud's exit at least.
            check(stats.get('events_dropped_total{reason="below_min_severity"}', 0) >= 3,
                  "below_min_severity drops not counted: %r" % stats)
            check_books_balance(stats)


if __name__ == "__main__":
    require_root()
    run_tests([test_flood_does_not_hide_other_processes, test_sampled_events_carry_their_rate,
               test_scope_keeps_only_the_named_processes, test_kernel_sampled_events_carry_their_rate,
               test_min_severity_keeps_only_alerts_at_or_above])
