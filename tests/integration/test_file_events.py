"""file.* events: every subtype from a process the test runs, with absolute
paths (relative names, directory descriptors, symlinks resolved on open),
flags, modes, owners and results."""
import json
import os
import re
import subprocess
import textwrap

from kernel_helpers import run_py
from tapio import BIN, Collector, TempDir, check, require_root, run_tests

OPS = textwrap.dedent("""
    import os
    d = %(d)r
    os.chdir(d)
    fd = os.open('created', os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o640)
    os.close(fd)
    dfd = os.open(d + '/sub', os.O_RDONLY | os.O_DIRECTORY)
    fd = os.open('in_sub', os.O_CREAT | os.O_RDWR, 0o600, dir_fd=dfd)
    os.close(fd)
    os.rename('created', 'renamed')
    os.rename('in_sub', 'in_sub2', src_dir_fd=dfd, dst_dir_fd=dfd)
    os.chmod('renamed', 0o604)
    fd = os.open('renamed', os.O_RDONLY)
    os.fchmod(fd, 0o644)
    os.fchown(fd, 12, 34)
    os.close(fd)
    os.chown('renamed', 1, 2)
    os.link('renamed', 'hardlink')
    os.symlink('renamed', 'symlink')
    os.mkdir('newdir', 0o750)
    os.close(os.open('symlink', os.O_RDONLY))
    try:
        os.open('missing/none', os.O_RDONLY)
    except FileNotFoundError:
        pass
    os.unlink('hardlink')
    os.unlink('symlink')
    os.rmdir('newdir')
    os.unlink('in_sub2', dir_fd=dfd)
""")


def check_subtypes(binary=None):
    with TempDir() as tmp, Collector("-a", "-k", "categories=file", binary=binary) as c:
        d = os.path.realpath(tmp)
        os.mkdir(os.path.join(d, "sub"))
        p = run_py(OPS % {"d": d})

        def ev(type_, **kw):
            return c.wait_event(type=type_, pid=p.pid, **kw)

        op = ev("file.open", path=d + "/created")
        check("O_CREAT" in op["flags_str"] and "O_WRONLY" in op["flags_str"] and "O_TRUNC" in op["flags_str"],
              "open flags %r" % op.get("flags_str"))
        check(op["mode"] == 0o640 and op["ret"] >= 0, "open mode/ret %r/%r" % (op["mode"], op["ret"]))
        st = os.stat(d + "/renamed")  # the same inode, renamed later
        check(op["ino"] == st.st_ino and op["dev"] == st.st_dev,
              "ino/dev %r/%r, want %r/%r" % (op["ino"], op["dev"], st.st_ino, st.st_dev))
        check(not op["path_truncated"] and not op["path_unresolved"], "path flags %r" % op)
        check(op["syscall_str"] in ("open", "openat"), "syscall %r" % op.get("syscall_str"))

        ev("file.open", path=d + "/sub/in_sub")  # relative to a directory descriptor
        # Opened twice under its final name: for fchmod, and through the symlink
        # (whose open reports the file it resolved to, not the link).
        c.wait_until(lambda: len(c.find(type="file.open", pid=p.pid, path=d + "/renamed")) == 2,
                     what="two opens of renamed")
        failed = ev("file.open", path=d + "/missing/none")
        check(failed["ret"] == -2 and failed["ret_str"] == "ENOENT", "failed open %r" % failed)
        check(failed["ino"] == 0, "failed open has an inode %r" % failed["ino"])

        ev("file.rename", oldpath=d + "/created", newpath=d + "/renamed", ret=0)
        ev("file.rename", oldpath=d + "/sub/in_sub", newpath=d + "/sub/in_sub2", ret=0)

        ev("file.chmod", path=d + "/renamed", mode=0o604, ret=0)
        fch = ev("file.chmod", path=d + "/renamed", mode=0o644, ret=0)  # by descriptor
        check(fch["syscall_str"] == "fchmod", "fchmod syscall %r" % fch.get("syscall_str"))
        ev("file.chown", path=d + "/renamed", owner_uid=1, owner_gid=2, ret=0)
        ev("file.chown", path=d + "/renamed", owner_uid=12, owner_gid=34, ret=0, syscall_str="fchown")

        ev("file.link", oldpath=d + "/renamed", newpath=d + "/hardlink", ret=0)
        ev("file.symlink", target="renamed", linkpath=d + "/symlink", ret=0)
        ev("file.mkdir", path=d + "/newdir", mode=0o750, ret=0)

        ev("file.unlink", path=d + "/hardlink", ret=0)
        ev("file.unlink", path=d + "/symlink", ret=0)
        rm = ev("file.unlink", path=d + "/newdir", ret=0)
        check(rm["flags_str"] == "AT_REMOVEDIR", "rmdir flags %r" % rm.get("flags_str"))
        ev("file.unlink", path=d + "/sub/in_sub2", ret=0)
        check(c.stop() == 0, "collector exit code")


def test_file_subtypes():
    check_subtypes()


def test_file_subtypes_under_asan():
    check_subtypes(binary=os.environ.get("TAPIO_BIN_ASAN"))


def test_text_output_of_file_events():
    with TempDir() as tmp, Collector("-a", "-k", "categories=file", output="text") as c:
        d = os.path.realpath(tmp)
        p = run_py("import os; os.close(os.open(%r, os.O_CREAT | os.O_WRONLY, 0o600))" % (d + "/t"))
        line = c.wait_until(lambda: next((l for l in c.lines if "file.open" in l and "pid=%d " % p.pid in l
                                           and d + "/t" in l), None), what="text file.open line")
        check("mode=0600" in line, "octal mode in %r" % line)
        check("flags=O_WRONLY|O_CREAT" in line, "symbolic flags in %r" % line)
        c.bad_lines = []
        c.stop()


def test_long_and_deep_paths():
    """Paths longer than the field are cut and flagged, never garbage."""
    with TempDir() as tmp, Collector("-a", "-k", "categories=file") as c:
        d = os.path.realpath(tmp)
        deep = d
        for i in range(12):
            deep = os.path.join(deep, "level%02d_%s" % (i, "x" * 20))
        code = ("import os\nos.makedirs(%r)\nos.chdir(%r)\n"
                "os.close(os.open('leaf', os.O_CREAT | os.O_WRONLY, 0o600))\n") % (deep, deep)
        p = run_py(code)
        ev = c.wait_until(lambda: next((e for e in c.find(type="file.open", pid=p.pid)
                                        if e["path"].startswith(d + "/level00")), None),
                          what="deep open")
        check(ev["path_truncated"], "deep path not flagged truncated: %r" % ev["path"])
        check(len(ev["path"]) == 255, "truncated path length %d" % len(ev["path"]))
        check((deep + "/leaf").startswith(ev["path"]), "truncated path is not a prefix: %r" % ev["path"])
        c.stop()


def stored_after(d, calls, long_path, n_long, n_short):
    """Run calls (Python statements on path p) n_long times on long_path,
    then n_short times on d, under a collector of file events alone with an
    8 MiB ring and raw storage in d/raw. Calls on a long path fill the ring
    first, so a short path's record sent whole would carry a long path's
    bytes after its own, which raw storage's zero-run coding cannot
    shorten. Returns the child's pid and the raw directory, after checking
    that every call was stored and that the records average under 260
    bytes on disk (sent whole: 350-380)."""
    raw_dir = os.path.join(d, "raw")
    c = Collector("-a", "-k", "categories=file", "--raw-dir", raw_dir, "--set", "ring.size=8M",
                  output="none")
    with c:
        code = ("import os\n"
                "for p, n in ((%r, %d), (%r, %d)):\n"
                "    for _ in range(n):\n"
                "%s\n" % (long_path, n_long, d, n_short,
                          "\n".join("        " + call for call in calls)))
        p = run_py(code, timeout=120)
        check(c.stop() == 0, "collector exit code")
    summary = [l for l in c.log if "summary (exit" in l]
    check(summary, "no exit summary in the log")
    stored = int(re.search(r", (\d+) stored raw", summary[0]).group(1))
    size = sum(os.path.getsize(os.path.join(raw_dir, f)) for f in os.listdir(raw_dir)
               if f.endswith(".seg"))
    n = len(calls) * (n_long + n_short)
    check(stored >= n, "%d events stored raw, fewer than the %d calls" % (stored, n))
    check(size / stored < 260, "%.0f bytes stored per event (%d events, %d bytes): records are "
          "sent whole" % (size / stored, stored, size))
    return p.pid, raw_dir


def test_open_records_end_with_their_path():
    """A file.open record ends at its path's NUL: what raw storage keeps of an
    open of a short path is ~150 bytes, where the whole record is 368."""
    with TempDir() as tmp:
        d = os.path.realpath(tmp)
        long_dir = os.path.join(d, "a" * 100, "b" * 100)
        os.makedirs(long_dir)
        with open(os.path.join(long_dir, "f"), "w"):
            pass
        stored_after(d, ["os.close(os.open(p, os.O_RDONLY))"], long_dir + "/f", 25000, 60000)


def test_path_records_end_with_their_path():
    """file.chmod, file.chown and file.utimes records (as file.unlink and
    file.mkdir, which share file.chmod's) end at their path's NUL too: a
    call on a short path is stored in ~150 bytes where the whole record is
    352-376. Every record reads back whole from raw storage."""
    n_long, n_short = 10000, 20000
    with TempDir() as tmp:
        d = os.path.realpath(tmp)
        long_dir = os.path.join(d, "a" * 100, "b" * 100)
        os.makedirs(long_dir)
        pid, raw_dir = stored_after(d, ["os.chmod(p, 0o755)", "os.chown(p, 7, 8)",
                                        "os.utime(p, (1000, 2000))"], long_dir, n_long, n_short)
        out = subprocess.run([BIN, "raw", "cat", raw_dir, "--json"], capture_output=True,
                             text=True, check=True).stdout
        mine = [e for e in map(json.loads, out.splitlines()) if e.get("pid") == pid]
        want = {"file.chmod": lambda e: e["mode"] == 0o755,
                "file.chown": lambda e: (e["owner_uid"], e["owner_gid"]) == (7, 8),
                "file.utimes": lambda e: (e["atime_sec"], e["mtime_sec"]) == (1000, 2000)}
        for typ, ok in want.items():
            evs = [e for e in mine if e["type"] == typ]
            for path, count in ((d, n_short), (long_dir, n_long)):
                got = [e for e in evs if e["path"] == path and e["ret"] == 0 and ok(e)]
                check(len(got) == count, "%s: %d of %d calls on %s read back whole from raw "
                      "storage" % (typ, len(got), count, path))


if __name__ == "__main__":
    require_root()
    run_tests([test_file_subtypes, test_file_subtypes_under_asan, test_text_output_of_file_events,
               test_long_and_deep_paths, test_open_records_end_with_their_path,
               test_path_records_end_with_their_path])
