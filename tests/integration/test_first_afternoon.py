"""A first afternoon with the collector, as a new user has it (issue 18).

- `make run`'s command on this machine for 10 s: every line on stdout is
  an alert or an event scored at the importance threshold (0.7); doing
  something suspicious gives one alert; the stop on Ctrl-C is announced and
  takes under 0.5 s; the exit summary is what is on disk; the ready line
  counts the programs as /metrics does.
- The account tools (useradd + userdel) and a BPF tool's start give at most
  one alert each; repeats fold into one alert with a count.
- --duration is honoured within 0.5 s, start-up included.
- /healthz is degraded after a failed reload and while a rule is
  quarantined, and recovers.
- --validate warns about fields no event has, rules without tests, a when
  that fails on a plain event; modes render in octal in outputs.
- libbpf's own output appears only at the trace log level.

Other processes run on this machine (other engineers' agents and tests):
checks about "every line" hold for any line, checks about counts filter by
the processes this test started.
"""
import calendar
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

from tapio import (BIN, SOURCE_DIR, Collector, TempDir, check, http_get, require_root, run_tests,
                   unique)

BUILD_DIR = os.environ.get("TAPIO_BUILD_DIR", os.path.join(SOURCE_DIR, "build"))
THRESHOLD = 0.7
PROC = ("-k", "categories=process")


def make_run_command():
    """The collector's command line that `make run` runs (make -n prints it
    without running anything), with this build's binary."""
    r = subprocess.run(["make", "-n", "-s", "--no-print-directory", "run"], cwd=SOURCE_DIR,
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "make -n run: %r" % r.stderr)
    line = [l for l in r.stdout.splitlines() if "tapio-collector" in l][-1].split()
    check(line[0].endswith("/tapio-collector"), "make run's command: %r" % line)
    return [BIN] + line[1:]


def wall_ms(log_line):
    """The wall clock (ms since the epoch) of a text log line."""
    ts = log_line.split()[0]
    return calendar.timegm(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S")) * 1000 + int(ts[20:23])


def alert_lines(lines, rule=None, comm=None):
    out = []
    for l in lines:
        m = re.search(r" ALERT \S+ (\S+): ", l)
        if not m or (rule and m.group(1) != rule):
            continue
        if comm and not re.search(r" comm=%s( |$)" % re.escape(comm), l):
            continue
        out.append(l)
    return out


def on_the_semantic_path(line):
    """An alert, or an event scored at or above the threshold."""
    if " ALERT " in line:
        return True
    m = re.search(r" importance=([0-9.]+)$", line)
    return bool(m) and float(m.group(1)) >= THRESHOLD


def test_make_run_is_quiet_and_clear():
    with TempDir() as tmp:
        raw_dir = os.path.join(tmp, "raw")
        cmd = make_run_command() + ["--raw-dir", raw_dir, "--metrics-addr", "127.0.0.1:0"]
        user = unique("tpaft")[:20]
        # make run's own: text on stdout, info logs, the default threshold.
        with Collector(*cmd[1:], output="text", threshold=None, aggregate=True, log_level=None,
                       timeout=180) as c:
            ready = c.wait_log("ready:")
            n = int(re.search(r"ready: (\d+) programs attached", ready).group(1))
            st, _, body = c.http_get("/metrics")
            m = re.search(r'^tapio_bpf_programs\{status="attached"\} (\d+)$', body, re.M)
            check(st == 200 and m and int(m.group(1)) == n,
                  "ready line says %d programs, /metrics %r" % (n, m and m.group(0)))
            check("alerts and events scored 0.7 or more" in ready, ready)
            start = time.monotonic()

            # Ordinary administration: a user added and removed.
            subprocess.run(["useradd", "-M", user], check=True, timeout=60)
            subprocess.run(["userdel", user], check=True, timeout=60)
            # Something suspicious, the README's example typed into a shell.
            line = readme_example("a reverse-shell idiom")
            sus = subprocess.run(["/bin/bash"], input=line + "\ntrue\n", text=True, timeout=30)
            check(sus.returncode == 0, "the README's example %r: %r" % (line, sus))
            c.wait_until(lambda: alert_lines(c.lines, "reverse_shell_dev_tcp"), timeout=30,
                         what="the reverse shell alert")
            time.sleep(max(0, 10 - (time.monotonic() - start)))

            c.proc.send_signal(signal.SIGINT)
            rc = c.proc.wait(30)
            exited = time.time() * 1000
            c.stop()
            check(rc == 0, "exit code %r" % rc)
            stopping = [l for l in c.log if " stopping (SIGINT)" in l]
            check(stopping, "no stopping line: %r" % c.log[-5:])
            took = exited - wall_ms(stopping[0])
            check(took < 500, "stopped %.0f ms after the stopping line" % took)
            check(not any("stats (" in l for l in c.log), "full stats at info: %r" % c.log[-3:])

            # Every line is an alert or an important event.
            noise = [l for l in c.lines if not on_the_semantic_path(l)]
            check(not noise, "%d of %d lines neither alerts nor important: %r"
                  % (len(noise), len(c.lines), noise[:5]))
            rs = alert_lines(c.lines, "reverse_shell_dev_tcp")
            check(len(rs) == 1, "reverse shell: %d alerts: %r" % (len(rs), rs))
            admin = [l for l in alert_lines(c.lines) if re.search(r" comm=(useradd|userdel) ", l)]
            check(len(admin) <= 1, "useradd + userdel: %d alerts: %r" % (len(admin), admin))
            execs = [l for l in c.lines if re.search(r"process\.exec .* comm=useradd .*%s" % user, l)]
            check(execs and execs[0].endswith("importance=0.70"), "useradd not important: %r" % execs)

            # The exit counters are what is on disk.
            summary = [l for l in c.log if "summary (exit," in l]
            check(summary, "no exit summary: %r" % c.log[-3:])
            stored = int(re.search(r", (\d+) stored raw", summary[0]).group(1))
            r = subprocess.run([BIN, "raw", "cat", raw_dir, "--json"], capture_output=True,
                               text=True, timeout=120)
            check(r.returncode == 0, "raw cat: %r" % r.stderr[-300:])
            on_disk = len(r.stdout.splitlines())
            check(stored == on_disk, "summary says %d stored raw, %d on disk" % (stored, on_disk))
            events = int(re.search(r": (\d+) events", summary[0]).group(1))
            check(events == on_disk, "summary says %d events, %d on disk" % (events, on_disk))


def test_bpf_tool_start_and_account_tools_are_one_alert():
    if not shutil.which("bpftrace"):
        raise AssertionError("bpftrace is missing (scripts/deps.sh test installs it)")
    with Collector("-p", "security", "-k", "categories=process,file,security", threshold=None,
                   aggregate=True, timeout=120) as c:
        # The security preset and one useradd + userdel: a new account is
        # worth one alert, its account files written are not more.
        user = unique("tpa")[:24]
        subprocess.run(["useradd", "-M", user], check=True, timeout=60)
        subprocess.run(["userdel", user], check=True, timeout=60)
        # A bpftrace that attaches two probes and exits by itself.
        p = subprocess.Popen(["bpftrace", "-e", "tracepoint:syscalls:sys_enter_openat,"
                              "tracepoint:syscalls:sys_enter_execve { } interval:s:1 { exit(); }"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            p.wait(120)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        # The window's first line comes out after its hold (2 s).
        c.wait_until(lambda: c.find(rule="bpf_program_loaded", pid=p.pid), timeout=30,
                     what="the bpf_program_loaded alert of bpftrace")
        time.sleep(3)
        c.stop()
        mine = [e for e in c.events if e.get("rule") and e["pid"] == p.pid]
        check(len(mine) == 1, "bpftrace's start: %d alerts: %r" % (len(mine), mine))
        admin = [e for e in c.events if e.get("rule") and e.get("comm") in ("useradd", "userdel")
                 and user in json.dumps(e)]
        check(len(admin) <= 1, "useradd + userdel under -p security: %d alerts: %r" %
              (len(admin), [(e["rule"], e.get("output")) for e in admin]))
        loads = mine[0].get("count", 1)
        print("  bpftrace loaded %d programs: one alert, count %d" % (loads, loads))


def test_duration_within_half_a_second():
    t0 = time.monotonic()
    r = subprocess.run([BIN, "--duration", "3s", "-o", "none", "--raw-dir", "off",
                        "--metrics-addr", "127.0.0.1:0", *PROC], capture_output=True, text=True,
                       timeout=120)
    wall = time.monotonic() - t0
    check(r.returncode == 0, "exit %r: %s" % (r.returncode, r.stderr[-500:]))
    started = float(re.search(r"started in ([0-9.]+) s", r.stderr).group(1))
    check("stopping (--duration 3.0 s over)" in r.stderr, r.stderr[-500:])
    # From the start of the process: a start-up slower than the duration
    # (a loaded machine) stops at once after it.
    check(wall <= max(3.0, started) + 0.5,
          "--duration 3s took %.2f s (start-up %.1f s)" % (wall, started))
    check(wall >= 3.0, "--duration 3s stopped after %.2f s" % wall)


BROKEN = """rule { name = "r", desc = "d", events = { "process.exec" }, severity = "notice",
  when = function(e) return e.comm == "nope" end, output = "x",
  tests = { { event = { type = "process.exec" }, expect = false } } }
rule { name = "half" -- unfinished
"""
GOOD = """rule { name = "r", desc = "d", events = { "process.exec" }, severity = "notice",
  when = function(e) return e.comm == "nope" end, output = "x",
  tests = { { event = { type = "process.exec" }, expect = false } } }
"""
FAULTY = """rule { name = "faulty", desc = "d", events = { "process.exec" }, severity = "notice",
  when = function(e) if e.comm == "%s" then error("boom") end return false end, output = "x",
  tests = { { event = { type = "process.exec" }, expect = false } } }
"""


def healthz(c):
    st, _, body = c.http_get("/healthz?format=json")
    return st, json.loads(body)


def test_healthz_after_failed_reload_and_quarantine():
    with TempDir() as tmp:
        d = os.path.join(tmp, "rules")
        os.mkdir(d, 0o755)
        f = os.path.join(d, "r.lua")
        with open(f, "w") as fh:
            fh.write(GOOD)
        with Collector("-r", d, "--set", "rules.fault_limit=3", *PROC) as c:
            c.wait_until(lambda: healthz(c)[0] == 200, timeout=30, what="healthy at start")
            with open(f, "w") as fh:
                fh.write(BROKEN)
            c.proc.send_signal(signal.SIGHUP)
            c.wait_log("rules reload failed")
            st, h = c.wait_until(lambda: (lambda r: r if r[0] == 503 else None)(healthz(c)),
                                 timeout=10, what="degraded after a failed reload")
            why = " ".join(r["reason"] for r in h["reasons"])
            check("rules reload" in why and "failed" in why and "r.lua" in why,
                  "degraded without the reason: %r" % h)
            # A good reload recovers.
            comm = unique("tpfault")[:15]
            with open(f, "w") as fh:
                fh.write(FAULTY % comm)
            before = len(c.log)
            c.proc.send_signal(signal.SIGHUP)
            c.wait_until(lambda: any("rules reloaded" in l for l in c.log[before:]), timeout=30,
                         what="the reload")
            c.wait_until(lambda: healthz(c)[0] == 200, timeout=10, what="healthy again")
            # A rule that keeps failing is quarantined: degraded until a reload.
            prog = os.path.join(tmp, comm)
            shutil.copy("/bin/true", prog)
            for _ in range(4):
                subprocess.run([prog])
            c.wait_log("quarantined after 3 faults")
            st, h = c.wait_until(lambda: (lambda r: r if r[0] == 503 else None)(healthz(c)),
                                 timeout=10, what="degraded while quarantined")
            check(any("quarantined" in r["reason"] for r in h["reasons"]), "reason: %r" % h)
            with open(f, "w") as fh:
                fh.write(GOOD)
            c.proc.send_signal(signal.SIGHUP)
            c.wait_until(lambda: healthz(c)[0] == 200, timeout=30, what="healthy after the reload")
            c.stop()


LINT = """rule {
  name = "reads_pathname", desc = "d", events = { "file.open" }, severity = "notice",
  when = function(e) return e.pathname == "/etc/shadow" end,
  output = "opened ${path}",
  tests = { { event = { type = "file.open", path = "/x" }, expect = false } },
}
rule {
  name = "untested", desc = "d", events = { "process.exec" }, severity = "notice",
  when = function(e) return e.exe:find("x") ~= nil end,
  output = "x",
}
rule {
  name = "mode_in_octal", desc = "d", events = { "file.chmod" }, severity = "notice",
  when = function(e) return e.mode == 493 end,
  output = "chmod ${path} to ${mode}",
  tests = { { event = { type = "file.chmod", path = "/x", mode = 493 }, expect = true,
              output = "chmod /x to 0755" } },
}
rule {
  name = "mode_alternative_in_octal", desc = "d", events = { "file.chmod" }, severity = "notice",
  when = function(e) return e.mode == 420 end,
  output = "to ${mode|path}",
  tests = { { event = { type = "file.chmod", path = "/x", mode = 420 }, expect = true,
              output = "to 0644" } },
}
rule {
  name = "behind_match", desc = "d", events = { "process.exec" }, severity = "notice",
  match = { exe = true }, -- the plain event has no enrichment: when never sees it
  when = function(e) return e.exe:find("zzz") ~= nil end,
  output = "x",
  tests = { { event = { type = "process.exec", comm = "x" }, expect = false } },
}
"""


def test_validate_lint():
    with TempDir() as tmp:
        d = os.path.join(tmp, "rules")
        os.mkdir(d, 0o755)
        with open(os.path.join(d, "lint.lua"), "w") as fh:
            fh.write(LINT)
        r = subprocess.run([BIN, "--validate", "-r", d], capture_output=True, text=True, timeout=60)
        out = r.stdout
        check(r.returncode == 0, "warnings are not errors: %r" % out)
        check("lint.lua:3: warning: rule 'reads_pathname': when reads e.pathname, which no event "
              "of its types (file.open) has" in out, out)
        check("warning: rule 'untested' has no tests" in out, out)
        check("warning: rule 'untested': when fails on a plain process.exec event" in out, out)
        check("octal" not in out and "behind_match" not in out and "3 warnings" in out, out)
        # The shipped sets are clean, but for fields announced by work in
        # flight (process.exec's env, issue 11): rules written against them
        # are nil until they land.
        pending = ("e.env,",)
        for preset in ("default", "security"):
            r = subprocess.run([BIN, "--validate", "-p", preset], capture_output=True, text=True,
                               timeout=60)
            warnings = [l for l in r.stdout.splitlines()
                        if ": warning: " in l and not any(p in l for p in pending)]
            check(r.returncode == 0 and not warnings, "%s: %r" % (preset, warnings or r.stdout))


def test_libbpf_output_only_at_trace():
    with Collector("-k", "categories=process,file", threshold=None, log_level="debug") as c:
        c.stop()
    libbpf = [l for l in c.log if "libbpf:" in l]
    check(len(libbpf) < 20, "%d libbpf lines at debug: %r" % (len(libbpf), libbpf[:3]))
    check(len(c.log) < 200, "%d log lines at debug" % len(c.log))
    check(any("stats (exit):" in l for l in c.log), "the full stats at debug")


def print_config(*args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([BIN, "--print-config", *args], capture_output=True, text=True,
                          timeout=60, env=e)


def test_configuration_a_new_user_writes():
    with TempDir() as tmp:
        rules = os.path.join(tmp, "mine")
        os.mkdir(rules, 0o755)
        with open(os.path.join(rules, "a.lua"), "w") as fh:
            fh.write(GOOD)
        # -r adds to the preset's rule sets, -R replaces them; the log names them.
        def nrules(*args):
            r = subprocess.run([BIN, "--validate", *args], capture_output=True, text=True,
                               timeout=60)
            m = re.search(r"rules OK: (\d+) rules", r.stdout)
            check(r.returncode == 0 and m, "--validate %r: %r" % (args, r.stdout[-300:]))
            return int(m.group(1))
        check(nrules("-p", "security", "-r", rules) == nrules("-p", "security") + 1, "-r adds")
        check(nrules("-p", "security", "-R", rules) == 1, "-R replaces")
        r = print_config("-p", "security", "-r", rules, env={"TAPIO_RULES": rules})
        check(re.search(r'paths = \{ "[^"]*/rules/default", "[^"]*/rules/security", "%s" \}' % rules,
                        r.stdout), "TAPIO_RULES and -r add once: %r" % r.stdout)
        with Collector("-p", "security", "-r", rules, *PROC, threshold=None) as c:
            line = c.wait_log("rules loaded:")
            c.stop()
        check(line.endswith("rule sets: @default, @security, %s" % rules), line)
        # TAPIO_PRESET, TAPIO_RAW_DIR.
        r = print_config(env={"TAPIO_PRESET": "security", "TAPIO_RAW_DIR": tmp})
        check('preset = "security", -- environment' in r.stdout, r.stdout[:300])
        check('raw_dir = "%s", -- environment' % tmp in r.stdout, "TAPIO_RAW_DIR: %r" % r.stdout)
        check('importance_threshold = 0.7, -- default' in r.stdout, "the dual path by default")
        r = print_config("-p", "default", env={"TAPIO_PRESET": "security"})
        check('preset = "default", -- flag' in r.stdout, "-p wins over TAPIO_PRESET")
        # Severity and log level spellings.
        r = print_config("--set", "filter.min_severity=warn", "--log-level", "trace")
        check('min_severity = "warning", -- flag' in r.stdout and 'level = "trace"' in r.stdout,
              "warn, trace: %r" % r.stderr)
        # Every problem of a config file at once, also with a misspelt preset;
        # every bad variable at once.
        cfg = os.path.join(tmp, "config.lua")
        with open(cfg, "w") as fh:
            fh.write('return { preset = "securty", sampling = { base_rat = 0.1 },\n'
                     '  rules = { importance_threshold = 2 } }\n')
        os.chmod(cfg, 0o600)
        r = print_config("-c", cfg)
        check(r.returncode == 2, "exit %r" % r.returncode)
        for want in ("preset: expected one of default, high-performance, security, got \"securty\"",
                     "unknown key 'sampling.base_rat' (did you mean 'sampling.base_rate'?)",
                     "rules.importance_threshold: expected a number from 0 to 1, got 2"):
            check(want in r.stderr, "missing %r in %r" % (want, r.stderr))
        r = print_config(env={"TAPIO_PRESET": "secur", "TAPIO_LOG_LEVEL": "loud"})
        check(r.returncode == 2 and "TAPIO_PRESET" in r.stderr and "TAPIO_LOG_LEVEL" in r.stderr,
              "every bad variable: %r" % r.stderr)
        # A second agent on a shared spool directory: the error names the key.
        spool = os.path.join(tmp, "spool")
        os.makedirs(os.path.join(spool, "grpc"), 0o700)
        import fcntl
        with open(os.path.join(spool, "grpc", ".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            r = subprocess.run([BIN, "--server", "127.0.0.1:1", "-o", "none", "--raw-dir", "off",
                                "--metrics-addr", "off", "--duration", "5s", *PROC],
                               capture_output=True, text=True, timeout=120,
                               env=dict(os.environ, TAPIO_SPOOL_DIR=spool))
        check(r.returncode == 1 and "delivery.spool_dir" in r.stderr and "TAPIO_SPOOL_DIR" in r.stderr,
              "shared spool: %r" % r.stderr[-400:])


def readme_block(after, page="docs/outputs.md"):
    """The lines of the first ```sh block after the line `after` of a page."""
    text = readme(page)
    text = text[text.index(after):]
    block = text[text.index("```sh\n") + 6:]
    return block[:block.index("```")].splitlines()


def test_readme_delivery_example_runs_as_written():
    """The delivery example with a token (docs/outputs.md), line by line as written;
    only the paths (a temporary /etc/tapio and events.jsonl), the port (a
    free one) and the collector's own directories and run time differ."""
    with TempDir() as tmp:
        import socket
        with socket.socket() as so:
            so.bind(("127.0.0.1", 0))
            port = so.getsockname()[1]
        lines = readme_block("With a bearer token")
        subst = [("/etc/tapio", os.path.join(tmp, "etc-tapio")), ("127.0.0.1:4317", "127.0.0.1:%d" % port),
                 ("./build/", BUILD_DIR + "/"), ("events.jsonl", os.path.join(tmp, "events.jsonl")),
                 ("sudo ", "")]
        for a, b in subst:
            lines = [l.replace(a, b) for l in lines]
        check(len(lines) == 5 and lines[3].endswith("&") and "TAPIO_TOKEN_FILE=" in lines[4],
              "the README's example changed: %r" % lines)
        for l in lines[:3]:
            r = subprocess.run(["bash", "-c", l], capture_output=True, text=True, timeout=30)
            check(r.returncode == 0, "%r: %r" % (l, r.stderr))
        sink = subprocess.Popen(["bash", "-c", "exec " + lines[3].rstrip("&").strip()],
                                stderr=subprocess.PIPE, text=True)
        try:
            for line in sink.stderr:
                if "listening on" in line:
                    break
            env_assign, rest = lines[4].split(" ", 1)
            k, v = env_assign.split("=", 1)
            args = rest.split()[1:] + ["--raw-dir", os.path.join(tmp, "raw"), "--metrics-addr",
                                       "127.0.0.1:0", "--duration", "60s"]
            # The collector helper adds -o json; the README's -o none comes after and wins.
            with Collector(*args, env={k: v, "TAPIO_SPOOL_DIR": os.path.join(tmp, "spool")},
                           threshold=None, aggregate=True, log_level=None, timeout=180) as c:
                subprocess.run(["/bin/bash"], input=readme_example("a reverse-shell idiom") +
                               "\ntrue\n", text=True, timeout=30)
                out = os.path.join(tmp, "events.jsonl")

                def delivered():
                    if not os.path.exists(out):
                        return None
                    with open(out) as f:
                        evs = [json.loads(l) for l in f if l.endswith("\n")]
                    return evs if any(e.get("rule") == "reverse_shell_dev_tcp" for e in evs) else None
                evs = c.wait_until(delivered, timeout=60, what="the alert at the sink")
                c.proc.send_signal(signal.SIGINT)
                c.proc.wait(30)
                c.stop()
            noise = [e for e in evs if not e.get("rule") and e.get("importance", 0) < THRESHOLD]
            check(not noise, "the server got events below the threshold: %r" % noise[:3])
            sent = [re.search(r"grpc: sent (\d+) events .* acked (\d+)", l) for l in c.log]
            sent = [m for m in sent if m]
            check(sent and int(sent[0].group(1)) == int(sent[0].group(2)) >= 1,
                  "not everything acked: %r" % c.log[-3:])
        finally:
            sink.terminate()
            sink.wait(30)


def readme_example(comment):
    """The README's shell line that ends with `# comment`, without it."""
    for line in readme().splitlines():
        if line.rstrip().endswith("# " + comment):
            return line[:line.rindex("#")].rstrip()
    raise AssertionError("no README line ending with # %s" % comment)


def readme(page="README.md"):
    with open(os.path.join(SOURCE_DIR, page)) as f:
        return f.read()


def paragraphs(text):
    """The README's prose paragraphs (not code, tables, lists or headings),
    each joined into one line."""
    out, cur, code = [], [], False
    for line in text.splitlines() + [""]:
        if line.startswith("```"):
            code = not code
            line = ""
        if code or not line.strip():
            if cur:
                out.append(cur)
            cur = []
            continue
        cur.append(line)
    # Not prose: headings, tables, lists, comments, indented code.
    return [" ".join(l.strip() for l in p) for p in out
            if not re.match(r"^(#|\||- |\* |<!--|\d+\. |    )", p[0])]


def test_readme_is_complete_and_whole():
    text = readme()
    flags = text[text.index("| flag | meaning |"):]
    flags = flags[:flags.index("\n\n")]
    r = subprocess.run([BIN, "--help"], capture_output=True, text=True, timeout=30)
    for opt in re.findall(r"^\s+(?:(-\w), )?(--[\w-]+)", r.stdout, re.M):
        for o in opt:
            check(not o or "`%s" % o in flags or ", %s" % o in flags,
                  "README's flag table lacks %s" % o)
    # Every variable the collector reads, in the environment table and in --help.
    env = text[text.index("| variable | key / meaning |"):]
    env = env[:env.index("\n\n")]
    keys = subprocess.run([BIN, "--print-keys"], capture_output=True, text=True, timeout=30).stdout
    names = set(re.findall(r"`(TAPIO_[A-Z0-9_]+)`", keys)) | {"TAPIO_DEBUG", "TAPIO_ENABLE_EBPF"}
    for name in sorted(names):
        check("`%s`" % name in env, "README's environment table lacks %s" % name)
        check(name in r.stdout, "--help does not name %s" % name)
    # No paragraph of the README or of docs/ starts or ends in the middle of
    # a sentence.
    pages = ["README.md"] + sorted("docs/" + f for f in os.listdir(os.path.join(SOURCE_DIR, "docs"))
                                   if f.endswith(".md"))
    for page in pages:
        for p in paragraphs(readme(page)):
            check(re.match(r"^([A-Z0-9\[]|\*\*|`[^`]+` [a-zA-Z(])", p),
                  "%s: paragraph starts mid-sentence: %r" % (page, p[:80]))
            check(p[-1] in ".:)`", "%s: paragraph ends mid-sentence: %r" % (page, p[-80:]))


def test_make_build_builds_the_agent_only():
    """`make build` builds tapio-collector and tapio-sink (the test programs
    are the target `tests`, which make test builds); `make run` installs
    the build packages only."""
    with open(os.path.join(BUILD_DIR, "CMakeFiles", "Makefile2")) as f:
        mk = f.read()
    deps = set()
    for m in re.finditer(r"^(?:all|tests/all): (\S+)$", mk, re.M):
        deps.add(m.group(1))
    names = {os.path.basename(os.path.dirname(d)).replace(".dir", "") for d in deps}
    extra = sorted(n for n in names if re.search(r"test_|fuzz_|bench_|asan", n))
    check(not extra, "the default target builds %s" % extra)
    check({"tapio-collector", "tapio-sink"} <= names, "the default target: %s" % sorted(names))
    r = subprocess.run(["make", "-n", "-s", "--no-print-directory", "run"], cwd=SOURCE_DIR,
                       capture_output=True, text=True, timeout=60)
    check("scripts/deps.sh build" in r.stdout and "deps.sh test" not in r.stdout,
          "make run's packages: %r" % r.stdout)
    with open(os.path.join(SOURCE_DIR, "scripts", "deps.sh")) as f:
        build = re.search(r'BUILD_PKGS="([^"]*)"', f.read()).group(1).split()
    for test_only in ("python3", "bpftrace", "libbpf-tools", "libcmocka-dev", "python3-grpcio"):
        check(test_only not in build, "make run installs %s" % test_only)


if __name__ == "__main__":
    require_root()
    run_tests([test_make_run_is_quiet_and_clear, test_bpf_tool_start_and_account_tools_are_one_alert,
               test_duration_within_half_a_second, test_healthz_after_failed_reload_and_quarantine,
               test_validate_lint, test_libbpf_output_only_at_trace,
               test_readme_is_complete_and_whole, test_make_build_builds_the_agent_only,
               test_configuration_a_new_user_writes, test_readme_delivery_example_runs_as_written])
