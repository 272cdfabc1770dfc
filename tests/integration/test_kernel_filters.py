"""In-kernel filtering: excluded task names and path prefixes, dropped
failures, per-category sampling, disabled categories; every drop counted,
so that what the kernel emitted is exactly what user space received."""
import os
import re
import subprocess

from kernel_helpers import exit_stats, prog_names, run_py, stat, unique_comm
from tapio import SOURCE_DIR, Collector, TempDir, check, require_root, run_tests

FAMILIES = ["process", "file", "network", "security", "container", "memory"]
# The BPF objects of a category, where it has more than the one named after it.
OBJECTS = {"security": ["security", "iouring"]}


def family_programs(family):
    """The programs a category's BPF objects define: their functions outside
    .text (which holds subprograms), as llvm-objdump lists them. A NAME_compat
    twin stands in for NAME (it loads only where the kernel refuses NAME),
    so it is not listed on its own."""
    build = os.environ.get("TAPIO_BUILD_DIR", os.path.join(SOURCE_DIR, "build"))
    progs = []
    for obj in OBJECTS.get(family, [family]):
        out = subprocess.run(["llvm-objdump", "--syms", os.path.join(build, "bpf", obj + ".bpf.o")],
                             capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            f = line.split()
            if len(f) >= 6 and f[2] == "F" and f[3] != ".text":
                progs.append(f[-1])
    return sorted(p for p in progs if not (p.endswith("_compat") and p[:-7] in progs))


def received(c, category):
    return sum(1 for e in c.events if e["type"].startswith(category + "."))


def test_exclude_comm_path_and_failures():
    with TempDir() as tmp:
        d = os.path.realpath(tmp)
        for sub in ("keep", "skip"):
            os.mkdir(os.path.join(d, sub))
        exe_ex, comm_ex = unique_comm(d, "ex")
        exe_ok, comm_ok = unique_comm(d, "ok")
        c = Collector("-a", "-k", "categories=file,process", "-k", "exclude_comm=" + comm_ex,
                      "-k", "exclude_path=%s/skip/" % d, "-k", "drop_failed=file")
        with c:
            code = ("import os\n"
                    "for i in range(5):\n"
                    "    os.close(os.open(%(d)r + '/keep/k%%d' %% i, os.O_CREAT | os.O_WRONLY, 0o600))\n"
                    "    os.close(os.open(%(d)r + '/skip/s%%d' %% i, os.O_CREAT | os.O_WRONLY, 0o600))\n"
                    "    try:\n        os.open(%(d)r + '/keep/missing%%d' %% i, os.O_RDONLY)\n"
                    "    except OSError:\n        pass\n"
                    "os.rename(%(d)r + '/skip/s0', %(d)r + '/keep/moved')\n"
                    "os.rename(%(d)r + '/skip/s1', %(d)r + '/skip/s1b')\n") % {"d": d}
            pex = run_py(code.replace("/keep/", "/keep/ex_"), exe=exe_ex)
            pok = run_py(code, exe=exe_ok)
            c.wait_event(type="file.rename", pid=pok.pid, newpath=d + "/keep/moved")
            c.wait_event(type="process.exit", pid=pok.pid)
            check(c.stop() == 0, "collector exit code")

        mine = [e for e in c.events if e["pid"] == pok.pid and e["type"].startswith("file.")]
        paths = sorted(e.get("path", e.get("oldpath")) for e in mine if d in e.get("path", e.get("oldpath", "")))
        want = sorted([d + "/keep/k%d" % i for i in range(5)] + [d + "/skip/s0"])
        check(paths == want, "events of the kept process under %s: %r, want %r" % (d, paths, want))
        # Its fork is reported: the child still has its parent's name then.
        check(not any(e["pid"] == pex.pid for e in c.events if e["type"] != "process.fork"),
              "events of the excluded comm were reported: %r" %
              [e for e in c.events if e["pid"] == pex.pid and e["type"] != "process.fork"][:3])
        check(not any(e.get("ret", 0) < 0 for e in c.events if e["type"].startswith("file.")),
              "a failed file syscall was reported")

        st = exit_stats(c)
        check(stat(st, "kernel_filtered_total", category="file", reason="comm") >= 16,
              "comm drops %r" % st)
        check(stat(st, "kernel_filtered_total", category="process", reason="comm") >= 1,
              "process comm drops %r" % st)
        check(stat(st, "kernel_filtered_total", category="file", reason="path") >= 6,
              "path drops %r" % st)
        check(stat(st, "kernel_filtered_total", category="file", reason="failed") >= 5,
              "failure drops %r" % st)
        for cat in ("file", "process"):
            check(stat(st, "kernel_emitted_total", category=cat) == received(c, cat),
                  "%s: the kernel emitted %d, user space received %d" %
                  (cat, stat(st, "kernel_emitted_total", category=cat), received(c, cat)))


def test_sampling_keeps_one_in_n():
    n, rate = 4000, 4
    with TempDir() as tmp:
        d = os.path.realpath(tmp)
        c = Collector("-a", "-k", "categories=file", "-k", "sample.file=%d" % rate)
        with c:
            p = run_py("import os\nfor i in range(%d):\n    os.close(os.open(%r, os.O_RDONLY))\n"
                       % (n, d))
            c.wait_event(type="file.open", pid=p.pid)
            check(c.stop() == 0, "collector exit code")
        kept = sum(1 for e in c.find(type="file.open", pid=p.pid) if e["path"] == d)
        check(n / rate * 0.6 <= kept <= n / rate * 1.4, "kept %d of %d at 1 in %d" % (kept, n, rate))
        st = exit_stats(c)
        check(stat(st, "kernel_sampled_total", category="file") >= n - kept,
              "sampled-out count %r" % st)
        check(stat(st, "kernel_emitted_total", category="file") == received(c, "file"),
              "emitted %d, received %d" % (stat(st, "kernel_emitted_total", category="file"),
                                           received(c, "file")))


# The process family's programs that keep the header's cgroup cache exact
# (bpf/common.bpf.h): they load with any category, and record nothing.
CGROUP_GEN = [p for p in family_programs("process") if p.startswith("tp_cgroup_gen_")]


def test_disabled_categories_load_no_programs():
    """With one category enabled the agent holds exactly that family's
    programs, less those whose hook this kernel lacks (one warning each),
    and the cgroup cache's five from the process family."""
    check(len(CGROUP_GEN) == 5, "the cgroup cache's programs: %r" % CGROUP_GEN)
    for fam in FAMILIES:
        with Collector("-o", "none", "-a", "-k", "categories=" + fam, output="json") as c:
            loaded = prog_names(c.proc.pid)
            c.stop()
        twins = [p[:-7] for p in loaded if p.endswith("_compat")]
        loaded = [p[:-7] if p.endswith("_compat") else p for p in loaded]
        skipped = sorted(re.search(r"program (\w+) ", l).group(1) for l in c.log if "skipping" in l)
        skipped = [p for p in skipped if p not in twins]
        check(all("does not exist on this kernel" in l or "its twin on probe reads runs instead" in l
                  for l in c.log if "skipping" in l),
              "%s: programs skipped for another reason than a missing hook: %r" %
              (fam, [l for l in c.log if "skipping" in l]))
        want = sorted(set(family_programs(fam)) | set(CGROUP_GEN))
        check(sorted(loaded + skipped) == want,
              "with only %s enabled the agent holds %r (skipped %r), want %r" %
              (fam, loaded, skipped, want))
        # The file family loads in shards, a copy of its object per load
        # thread (src/bpf/loader.c), each program in one of them: the
        # equality above holds no program twice.
        shards = [l for l in c.log if re.search(r"probe family %s \(shard \d+ of \d+\): loaded" % fam, l)]
        if fam == "file" and (os.cpu_count() or 1) > 1:
            n = min(os.cpu_count(), 4)
            check(len(shards) == n and all("of %d)" % n in l for l in shards),
                  "file: want %d shards, the log says %r" % (n, shards))
        else:
            check(not shards, "%s: loaded in shards: %r" % (fam, shards))


# The programs on typed loads (TP_CAST, bpf/syscall.bpf.h) and their twins.
TYPED = ["tp_exit_open", "tp_exit_openat", "tp_sched_exec"]
# Fields that differ from one run of the same workload to the next.
VOLATILE = ("ts", "cpu", "pid", "tid")


def twin_workload(c, d, exe):
    """Opens (absolute, relative, dirfd, open(2), a missing file, a path
    too deep to walk whole, /dev/null), then an exec of exe with arguments;
    returns the events it made, less the fields that change between runs."""
    code = ("import ctypes, os, platform\n"
            "d = %(d)r\n"
            "os.chdir(d)\n"
            "os.close(os.open(d + '/a.txt', os.O_RDONLY))\n"
            "os.close(os.open('a.txt', os.O_RDONLY))\n"
            "fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)\n"
            "os.close(os.open('a.txt', os.O_RDONLY, dir_fd=fd))\n"
            "if platform.machine() == 'x86_64':\n"
            "    f = ctypes.CDLL(None).syscall(2, (d + '/a.txt').encode(), 0, 0)\n"
            "    os.close(f)\n"
            "try:\n    os.open(d + '/missing', os.O_RDONLY)\nexcept OSError:\n    pass\n"
            "os.close(os.open(d + '/x' * 40 + '/deep', os.O_RDONLY))\n"
            "os.close(os.open('/dev/null', os.O_WRONLY))\n"
            "os.execv(%(exe)r, [%(exe)r, '-c', 'pass', 'marker'])\n") % {"d": d, "exe": exe}
    p = run_py(code)
    c.wait_event(type="process.exec", pid=p.pid, filename=exe)
    c.wait_event(type="process.exit", pid=p.pid)
    mine = [e for e in c.events if e["pid"] == p.pid and
            (e["type"] == "process.exec" or
             (e["type"] == "file.open" and (d in e["path"] or e["path"].endswith("/x/deep") or e["path"] == "/dev/null")))]
    return [{k: v for k, v in e.items() if k not in VOLATILE} for e in mine]


def test_probe_read_twins_report_what_typed_programs_do():
    """TAPIO_TEST_NO_TYPED_BPF=1 loads as on a kernel before 6.2 (no
    bpf_rdonly_cast): each program on typed loads is reported skipped once,
    its NAME_compat twin runs instead, event headers are read with probe
    reads, and the events are the same, field by field, as those of the
    typed programs."""
    with TempDir() as tmp:
        d = os.path.realpath(tmp)
        with open(os.path.join(d, "a.txt"), "w") as f:
            f.write("a")
        os.makedirs(d + "/x" * 40)
        open(d + "/x" * 40 + "/deep", "w").close()
        exe, _ = unique_comm(d, "tw")
        runs = {}
        for twins in (False, True):
            env = {"TAPIO_TEST_NO_TYPED_BPF": "1"} if twins else {}
            with Collector("-a", "-k", "categories=process,file", env=env) as c:
                held = prog_names(c.proc.pid)
                runs[twins] = twin_workload(c, d, exe)
                check(c.stop() == 0, "collector exit code")
            for name in TYPED:
                want, not_want = (name + "_compat", name) if twins else (name, name + "_compat")
                check(want in held and not_want not in held,
                      "twins=%s: the agent holds %r" % (twins, [p for p in held if name in p]))
                refused = [l for l in c.log if "skipping" in l and " %s " % name in l]
                if twins:
                    check(len(refused) == 1 and "its twin on probe reads runs instead" in refused[0],
                          "%s: refusal reported as %r" % (name, refused))
                else:
                    check(not refused, "%s refused without the knob: %r" % (name, refused))
        typed, compat = runs[False], runs[True]
        check(sum(e["type"] == "file.open" for e in typed) >= 6 and
              sum(e["type"] == "process.exec" for e in typed) == 2,  # python, then exe
              "the workload's events were not all seen: %r" % [(e["type"], e.get("path")) for e in typed])
        check(any(e.get("path_truncated") for e in typed), "the deep path was not truncated")
        check(len(typed) == len(compat), "typed: %d events, twins: %d" % (len(typed), len(compat)))
        for a, b in zip(typed, compat):
            diff = {k: (a.get(k), b.get(k)) for k in set(a) | set(b) if a.get(k) != b.get(k)}
            check(not diff, "%s %s: typed vs twin %r" % (a["type"], a.get("path", a.get("filename")), diff))


def test_refused_typed_build_falls_back_to_the_build_without_kfuncs():
    """A kernel that has bpf_rdonly_cast but refuses the build with typed
    loads (TAPIO_TEST_NO_TYPED_BPF=refused makes it): each family says so and
    loads the build without kfuncs, the same programs as on a kernel
    without the kfunc (TAPIO_TEST_NO_TYPED_BPF=1)."""
    held, logs = {}, {}
    for knob in ("1", "refused"):
        with Collector("-o", "none", "-a", output="json", env={"TAPIO_TEST_NO_TYPED_BPF": knob}) as c:
            held[knob] = prog_names(c.proc.pid)
            check(c.stop() == 0, "collector exit code")
        logs[knob] = [l for l in c.log if "of the build with typed loads" in l]
    fell_back = {re.search(r"probe family (\w+):", l).group(1) for l in logs["refused"]}
    want = {f for fam in FAMILIES for f in OBJECTS.get(fam, [fam])}
    check(fell_back == want, "families that fell back: %r, want %r" % (sorted(fell_back), sorted(want)))
    check(not logs["1"], "the build without kfuncs was refused: %r" % logs["1"])
    check(held["refused"] == held["1"] and any(p.endswith("_compat") for p in held["1"]),
          "programs held: refused %r, no kfunc %r" % (held["refused"], held["1"]))


def test_bad_no_typed_knob_is_a_usage_error():
    import subprocess
    from tapio import BIN
    r = subprocess.run([BIN, "-o", "none", "--raw-dir", "off", "--metrics-addr", "off"],
                       env=dict(os.environ, TAPIO_TEST_NO_TYPED_BPF="yes"),
                       capture_output=True, text=True, timeout=20)
    check(r.returncode == 2, "exit code %d" % r.returncode)
    check("TAPIO_TEST_NO_TYPED_BPF=yes" in r.stderr, "message %r" % r.stderr)


def test_bad_kernel_settings_are_usage_errors():
    import subprocess
    from tapio import BIN
    for arg, text in (("sample.nosuch=3", "sample."), ("exclude_comm=" + "x" * 20, "exclude_comm"),
                      ("exclude_path=relative", "exclude_path"), ("nosuch=1", "unknown kernel setting"),
                      ("categories=files", "categories"), ("noequals", "KEY=VALUE"),
                      ("bpf_commands=prog_lod", "bpf_commands")):
        r = subprocess.run([BIN, "-k", arg], capture_output=True, text=True, timeout=20)
        check(r.returncode == 2, "-k %s: exit code %d" % (arg, r.returncode))
        check(text in r.stderr, "-k %s: message %r" % (arg, r.stderr))


if __name__ == "__main__":
    require_root()
    run_tests([test_exclude_comm_path_and_failures, test_sampling_keeps_one_in_n,
               test_disabled_categories_load_no_programs, test_probe_read_twins_report_what_typed_programs_do,
               test_refused_typed_build_falls_back_to_the_build_without_kfuncs,
               test_bad_no_typed_knob_is_a_usage_error, test_bad_kernel_settings_are_usage_errors])
