"""Helpers for the kernel coverage tests: run Python snippets under a
unique task name, read the collector's exit counters and its programs."""
import os
import re
import subprocess

from tapio import check, unique

PYTHON = "/usr/bin/python3"


def unique_comm(tmp, prefix="tp"):
    """A symlink to python whose name becomes the task's comm (at most 15
    characters), so events of the process it runs are ours alone."""
    name = unique(prefix)[:15]
    path = os.path.join(tmp, name)
    os.symlink(PYTHON, path)
    return path, name


def run_py(code, exe=PYTHON, cwd=None, check_rc=True, env=None, timeout=60):
    """Run a Python snippet as a child process; returns the Popen (finished)."""
    p = subprocess.Popen([exe, "-c", code], cwd=cwd, env=env)
    p.wait(timeout)
    if check_rc:
        check(p.returncode == 0, "child exited with %r" % p.returncode)
    return p


def exit_stats(collector):
    """The counters of the collector's 'stats (exit)' log line as a dict:
    {'kernel_emitted_total{category="file"}': 12, ...}."""
    line = next((l for l in collector.log if "stats (exit):" in l), None)
    check(line is not None, "no exit stats line in the log")
    stats = {}
    for m in re.finditer(r'(\w+(?:\{[^}]*\})?)=([0-9.e+-]+)', line.split("stats (exit):", 1)[1]):
        stats[m.group(1)] = float(m.group(2))
    return stats


def stat(stats, name, **labels):
    key = name
    if labels:
        key += "{" + ",".join('%s="%s"' % (k, v) for k, v in labels.items()) + "}"
    return int(stats.get(key, 0))


def prog_ids(pid):
    """Ids of the BPF programs a process holds (programs and links)."""
    ids = set()
    d = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(d):
        try:
            with open(os.path.join(d, fd)) as f:
                for line in f:
                    if line.startswith("prog_id:"):
                        ids.add(int(line.split()[1]))
        except OSError:
            pass
    return ids


def prog_names(pid):
    """Names of the BPF programs a process holds, asked from bpftool."""
    import json
    ids = prog_ids(pid)
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, check=True).stdout
    return sorted(p["name"] for p in json.loads(out) if p["id"] in ids)
