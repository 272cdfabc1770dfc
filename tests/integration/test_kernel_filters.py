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


def test_disabled_categories_load_no_programs():
    """With one category enabled the agent holds exactly that family's
    programs, less those whose hook this kernel lacks (one warning each)."""
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
        check(sorted(loaded + skipped) == family_programs(fam),
              "with only %s enabled the agent holds %r (skipped %r), want %r" %
              (fam, loaded, skipped, family_programs(fam)))


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
               test_disabled_categories_load_no_programs, test_bad_kernel_settings_are_usage_errors])
