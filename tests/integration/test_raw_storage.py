"""Raw storage on a live run: every event kept on disk comes back through
`raw cat --json` and `replay -o json` exactly as -o json printed it live;
kill -9 of the writer loses nothing written before its last flush and the
torn segment is reported; a full disk (small tmpfs) drops and counts while
the agent keeps running, and storage resumes when space returns; damaged
segments get clear messages and no crash, and a flipped byte costs one
record (the reader resynchronises); bad command lines exit 2."""
import errno
import json
import os
import shutil
import signal
import stat
import subprocess
import threading
import time

from tapio import (BIN, BIN_ASAN, Collector, TempDir, check, kernel_fields, require_root, run_tests,
                   unique)


# Only the process family where the test needs no other: it loads in a
# fraction of the time all families take.
PROC = ("-k", "categories=process")


def spawn_unique(tmp, args=()):
    """Run a copy of /bin/sh under a unique name: its exec is ours alone."""
    name = unique("tpraw")[:15]
    path = os.path.join(tmp, name)
    if not os.path.exists(path):
        shutil.copy("/bin/sh", path)
        os.chmod(path, 0o755)
    for attempt in range(50):
        try:
            p = subprocess.Popen([path, "-c", "exit 0"] + list(args))
            break
        except OSError as e:
            # A child forked by another thread while we copied may still
            # hold the file open for writing until it execs.
            if e.errno != errno.ETXTBSY or attempt == 49:
                raise
            time.sleep(0.1)
    p.wait()
    return path, p.pid


def raw(*args, binary=None, timeout=60):
    return subprocess.run([binary or BIN] + list(args), capture_output=True, text=True,
                          timeout=timeout)


def raw_events(d, *extra, binary=None):
    r = raw("raw", "cat", d, "--json", *extra, binary=binary)
    check(r.returncode == 0, "raw cat exit %r: %s" % (r.returncode, r.stderr))
    return [json.loads(l) for l in r.stdout.splitlines()], r.stderr


def ours(events, pids):
    return sorted((e for e in events if e["pid"] in pids),
                  key=lambda e: (e["ts"], e["type"], e["pid"]))


class Generator:
    """Spawns short processes until stopped: a steady stream of events."""

    def __init__(self):
        self.stop_flag = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop_flag:
            subprocess.run(["/bin/true"])

    def stop(self):
        self.stop_flag = True
        self.t.join(10)


def test_live_events_come_back_identical():
    with TempDir() as tmp:
        d = os.path.join(tmp, "raw")
        with Collector("-a", "--raw-dir", d) as c:
            pids = set()
            for i in range(5):
                path, pid = spawn_unique(tmp, [unique("arg")])
                pids.add(pid)
                c.wait_event(type="process.exit", pid=pid)
            rc = c.stop()
            check(rc == 0, "collector exit code %r" % rc)
            enriched = ours(c.events, pids)
            # Raw storage keeps what the kernel recorded; enrichment is derived.
            live = [kernel_fields(e) for e in enriched]
        # exec, fork and exit of each, and whatever else they did (files...).
        kinds = {(e["type"], e["pid"]) for e in live}
        check(all((t, p) in kinds for p in pids
                  for t in ("process.exec", "process.fork", "process.exit")),
              "live events of our processes: %r" % sorted(kinds))

        mode = stat.S_IMODE(os.stat(d).st_mode)
        check(mode == 0o700, "raw dir mode %o" % mode)
        segs = [f for f in os.listdir(d) if f.endswith(".seg")]
        check(segs, "no segment in %s: %r" % (d, os.listdir(d)))
        for f in segs:
            m = stat.S_IMODE(os.stat(os.path.join(d, f)).st_mode)
            check(m == 0o600, "segment %s mode %o" % (f, m))

        stored, err = raw_events(d)
        got = ours(stored, pids)
        first = next((i for i, (a, b) in enumerate(zip(got, live)) if a != b),
                     min(len(got), len(live)))
        check(got == live, "raw cat differs from live: %d stored, %d live; the first "
              "difference, at %d:\n%r\n%r\nraw cat said: %s"
              % (len(got), len(live), first, got[first:first + 1], live[first:first + 1],
                 err[-500:]))
        check("damaged at" not in err and "torn" not in err, "raw cat complained: %s" % err)
        stored_asan, _ = raw_events(d, binary=BIN_ASAN)
        check(ours(stored_asan, pids) == live, "raw cat under ASan differs")

        r = raw("replay", d, "-o", "json", "-a")
        check(r.returncode == 0, "replay exit %r: %s" % (r.returncode, r.stderr))
        replayed = ours([json.loads(l) for l in r.stdout.splitlines()], pids)
        check([kernel_fields(e) for e in replayed] == live,
              "replay differs from live:\n%r\n%r" % (replayed[:2], live[:2]))
        # A replay enriches from the stored events alone: each exec names
        # its exe, and the exit of the same process still knows it.
        for e in replayed:
            if e["type"] in ("process.exec", "process.exit"):
                check(e.get("exe") == next(x["filename"] for x in replayed
                                           if x["type"] == "process.exec" and x["pid"] == e["pid"]),
                      "replayed %s without its exe: %r" % (e["type"], e))

        # Filters: by type, and by a time window around one event.
        execs, _ = raw_events(d, "--type", "process.exec")
        check(ours(execs, pids) == [e for e in live if e["type"] == "process.exec"],
              "--type process.exec")
        check(all(e["type"] == "process.exec" for e in execs), "--type let others through")
        one = live[7]
        window, _ = raw_events(d, "--since", str(one["ts"]), "--until", str(one["ts"]))
        check(one in window and all(e["ts"] == one["ts"] for e in window),
              "--since/--until window %r" % window[:3])
        r = raw("replay", d, "-o", "json", "-a", "--type", "process.fork")
        forks = ours([json.loads(l) for l in r.stdout.splitlines()], pids)
        check([kernel_fields(e) for e in forks] == [e for e in live if e["type"] == "process.fork"],
              "replay --type")


def test_kill9_keeps_what_was_flushed():
    with TempDir() as tmp:
        d = os.path.join(tmp, "raw")
        c = Collector("-a", "--raw-dir", d, *PROC, output="none")
        with c:
            gen = Generator()
            marked = []
            try:
                for i in range(10):
                    marked.append(spawn_unique(tmp)[1])
                # Writes happen every 250 ms and sync every 1 s: 3 s later
                # every marked event is in the file, while others stream in.
                time.sleep(3)
                c.proc.send_signal(signal.SIGKILL)
                c.proc.wait(10)
            finally:
                gen.stop()
        stored, err = raw_events(d)
        got = {e["pid"] for e in stored if e["type"] == "process.exec"}
        missing = [p for p in marked if p not in got]
        check(not missing, "execs flushed before kill -9 but not stored: %r" % missing)
        check("not closed by its writer" in err or "torn tail" in err,
              "raw cat did not report the cut segment: %s" % err)
        check(len(stored) > 30, "only %d events stored" % len(stored))


def test_disk_full_counts_and_resumes():
    with TempDir() as tmp:
        mnt = os.path.join(tmp, "mnt")
        os.mkdir(mnt)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", mnt],
                           capture_output=True, text=True)
        check(r.returncode == 0, "mount tmpfs: %s" % r.stderr)
        try:
            filler = os.path.join(mnt, "filler")
            with open(filler, "wb") as f:
                f.write(b"x" * (1024 * 1024 - 48 * 1024))
            d = os.path.join(mnt, "raw")
            with Collector("-a", "--raw-dir", d, *PROC) as c:
                gen = Generator()
                try:
                    c.wait_log("could not be stored", timeout=60)
                    line = c.wait_log("write failed")
                    check("No space left on device" in line, "log line %r" % line)
                    # The agent keeps running: events still reach the outputs.
                    path, pid = spawn_unique(tmp)
                    c.wait_event(type="process.exec", pid=pid)
                    os.unlink(filler)
                    c.wait_log("again", timeout=30)
                    after = [spawn_unique(tmp)[1] for _ in range(3)]
                    for p in after:
                        c.wait_event(type="process.exit", pid=p)
                finally:
                    gen.stop()
                rc = c.stop()
                check(rc == 0, "collector exit code %r" % rc)
                stats = next(l for l in c.log if "stats (exit)" in l)
                check('raw_events_dropped_total{reason="write_error"}=' in stats,
                      "no write drops counted: %s" % stats)
            stored, err = raw_events(d)
            got = {e["pid"] for e in stored if e["type"] == "process.exec"}
            check(all(p in got for p in after), "events after recovery not stored")
            check("damaged at" not in err and "torn" not in err, "segments damaged: %s" % err)
        finally:
            subprocess.run(["umount", "-l", mnt])


def test_damaged_segments_reported():
    with TempDir() as tmp:
        d = os.path.join(tmp, "raw")
        with Collector("-a", "--raw-dir", d, *PROC, output="none") as c:
            # Random arguments: the segment must be larger than 2000 bytes
            # even on a quiet machine, where only these execs are stored
            # and they compress well.
            for i in range(5):
                spawn_unique(tmp, [os.urandom(300).hex()])
            time.sleep(1)
            c.stop()
        seg = sorted(f for f in os.listdir(d) if f.endswith(".seg"))[0]
        data = open(os.path.join(d, seg), "rb").read()
        check(len(data) > 2000, "segment too small: %d" % len(data))
        bad = os.path.join(tmp, "bad")
        os.mkdir(bad)
        flipped = bytearray(data)
        flipped[len(data) // 2] ^= 0x5a
        for name, content in (("raw-000000000001.seg", bytes(flipped)),
                              ("raw-000000000002.seg", data[:len(data) - 7]),
                              ("raw-000000000003.seg", b""),
                              ("raw-000000000004.seg", os.urandom(5000)),
                              ("raw-000000000005.seg", data)):
            with open(os.path.join(bad, name), "wb") as f:
                f.write(content)
        for binary in (BIN, BIN_ASAN):
            events, err = raw_events(bad, binary=binary)
            check("AddressSanitizer" not in err and "runtime error" not in err,
                  "sanitizer report: %s" % err)
            for text in ("raw-000000000001.seg is damaged at byte",
                         "raw-000000000002.seg has a torn tail",
                         "raw-000000000003.seg skipped: empty file",
                         "raw-000000000004.seg skipped: not a tapio raw segment"):
                check(text in err, "no %r in: %s" % (text, err))
            check("in 1 region between bytes" in err and "reading on after each" in err,
                  "no resync after the flipped byte: %s" % err)
            whole, _ = raw_events(os.path.join(bad, "raw-000000000005.seg"))
            check(len(events) > len(whole), "intact records of damaged segments not read")
            # The reader resynchronises after the damaged frame: one
            # record lost, every other one read.
            one, err1 = raw_events(os.path.join(bad, "raw-000000000001.seg"), binary=binary)
            check(len(one) == len(whole) - 1,
                  "flipped byte: %d of %d records read: %s" % (len(one), len(whole), err1))
            check(err1.count("is damaged at byte") == 1, "not one damage line: %s" % err1)


RULE = """
rule {
  name = "%(name)s",
  desc = "a program the test ran",
  events = { "%(event)s" },
  severity = "warning",
  importance = 0.7,
  tags = { "test" },
  when = function(e) return %(cond)s end,
  output = "%(name)s: ${comm} pid ${pid}",
  tests = {
    { event = { type = "%(event)s", %(hit)s }, expect = true },
    { event = { type = "%(event)s", %(miss)s }, expect = false },
  },
}
"""


def rule_dir(tmp, name, **kw):
    d = os.path.join(tmp, name)
    os.mkdir(d)
    with open(os.path.join(d, "rule.lua"), "w") as f:
        f.write(RULE % dict(name=name, **kw))
    return d


def test_replay_applies_rules_as_live():
    with TempDir() as tmp:
        d = os.path.join(tmp, "raw")
        name = unique("tprep")[:15]
        prog = os.path.join(tmp, name)
        shutil.copy("/bin/sh", prog)
        os.chmod(prog, 0o755)
        live_rules = rule_dir(tmp, "ran_it", event="process.exec",
                              cond='e.filename == "%s"' % prog,
                              hit='filename = "%s"' % prog, miss='filename = "/bin/other"')
        with Collector("-R", live_rules, "--raw-dir", d, *PROC) as c:
            pids = set()
            for code in (0, 3, 3):
                p = subprocess.Popen([prog, "-c", "exit %d" % code])
                p.wait()
                pids.add(p.pid)
                c.wait_event(type="process.exit", pid=p.pid)
            c.wait_until(lambda: len(c.find(rule="ran_it")) >= 3, what="3 live alerts")
            c.stop()
            live = ours(c.events, pids)
        check(sum(1 for e in live if e.get("rule") == "ran_it") == 3, "live alerts %r" % live)

        # The same rules on the stored events: the same lines, alerts included.
        # As the live run: every event (threshold 0), each alert at once.
        r = raw("replay", d, "-R", live_rules, "-o", "json", "--set",
                "rules.importance_threshold=0", "--set", "rules.aggregate_window=0")
        check(r.returncode == 0, "replay exit %r: %s" % (r.returncode, r.stderr))
        replayed = ours([json.loads(l) for l in r.stdout.splitlines()], pids)
        # Replay's enrichment knows only the stored stream (the live run also
        # had /proc: the test's own process and its ancestors), so what the
        # kernel recorded and the alerts are compared, and what both know
        # from the stream itself: the executable and arguments of our program.
        check([kernel_fields(e) for e in replayed] == [kernel_fields(e) for e in live],
              "replay differs from live:\n%r\n%r" % (replayed, live))
        for a, b in zip(replayed, live):
            if a["type"] != "process.fork":
                check(a.get("exe") == b.get("exe") == prog and a.get("argv") == b.get("argv"),
                      "replay's context differs from live: %r, %r" % (a, b))

        # Backtesting: a rule written after the fact fires on yesterday's events.
        new_rules = rule_dir(tmp, "exited_3", event="process.exit",
                             cond='e.comm == "%s" and e.exit_code == 3' % name,
                             hit='comm = "%s", exit_code = 3' % name,
                             miss='comm = "%s", exit_code = 0' % name)
        r = raw("replay", d, "-R", new_rules, "-o", "json")
        check(r.returncode == 0, "replay exit %r: %s" % (r.returncode, r.stderr))
        alerts = [e for e in map(json.loads, r.stdout.splitlines()) if e.get("rule")]
        check(len(alerts) == 2 and {a["pid"] for a in alerts} <= pids
              and all(a["output"] == "exited_3: %s pid %d" % (name, a["pid"]) for a in alerts),
              "backtest alerts %r" % alerts)


def test_command_line_errors():
    with TempDir() as tmp:
        for args, code, text in (
                (["raw"], 2, "raw needs a subcommand"),
                (["raw", "ls"], 2, "unknown raw subcommand"),
                (["raw", "cat"], 2, "raw cat needs a raw storage directory"),
                (["raw", "cat", tmp, "--type", "process.nope"], 2, "unknown event type 'process.nope'"),
                (["raw", "cat", tmp, "--since", "soon"], 2, "invalid value 'soon' for --since"),
                (["raw", "cat", tmp, "--since", "1m", "--until", "2m"], 2, "--since is later"),
                (["raw", "cat", tmp, "--bogus"], 2, "unknown option '--bogus'"),
                (["raw", "cat", os.path.join(tmp, "none")], 1, "cannot read"),
                (["replay"], 2, "replay needs a raw storage directory"),
                (["replay", tmp, "--frobnicate"], 2, "unknown option '--frobnicate'")):
            r = raw(*args)
            check(r.returncode == code, "%r: exit %r, want %r (%s)" % (args, r.returncode, code,
                                                                     r.stderr))
            check(text in r.stderr, "%r: stderr %r" % (args, r.stderr))
            check(r.stdout == "", "%r: stdout %r" % (args, r.stdout))
        r = raw("raw", "--help")
        check(r.returncode == 0 and "--since" in r.stdout, "raw --help: %r" % r.stdout)
        # An empty directory is not an error, but it is said.
        r = raw("raw", "cat", tmp)
        check(r.returncode == 0 and "no raw segments" in r.stderr, "empty dir: %r" % r.stderr)
        # A second live collector on a directory in use is refused.
        d = os.path.join(tmp, "raw")
        with Collector("--raw-dir", d, *PROC, output="none") as c:
            r = raw("-o", "none", "--raw-dir", d, "--duration", "5s", *PROC, timeout=60)
            check(r.returncode == 1 and "in use by another tapio-collector (pid %d)" % c.proc.pid
                  in r.stderr, "second writer: %r" % r.stderr)
            c.stop()


if __name__ == "__main__":
    require_root()
    run_tests([test_live_events_come_back_identical, test_kill9_keeps_what_was_flushed,
               test_disk_full_counts_and_resumes, test_damaged_segments_reported,
               test_replay_applies_rules_as_live, test_command_line_errors])
