"""Deployment: `make install` into a DESTDIR, the Debian package, the systemd
unit and its capability set, the man pages.

The installed binary must work with no source or build tree in sight: a
mount namespace hides them. The package is installed with dpkg into a
private root and a private copy of the dpkg database (never this machine's
/), with maintainer scripts run outside a chroot (they honour DPKG_ROOT)."""
import atexit
import os
import re
import shutil
import subprocess
import tempfile

from tapio import SOURCE_DIR, TestFailure, check, require_root, run_tests

BUILD_DIR = os.environ.get("TAPIO_BUILD_DIR", os.path.join(SOURCE_DIR, "build"))
SOURCE_DIR = os.path.realpath(SOURCE_DIR)
BUILD_DIR = os.path.realpath(BUILD_DIR)
UNIT = os.path.join(SOURCE_DIR, "examples/systemd/tapio-collector.service")
PRESETS = ("default", "high-performance", "security")

STATE = {}


def sh(cmd, timeout=120, ok=True, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if ok and r.returncode != 0:
        raise TestFailure("%s: exit %d\nstdout: %s\nstderr: %s" %
                          (" ".join(cmd), r.returncode, r.stdout[-2000:], r.stderr[-2000:]))
    return r


def hidden(cmd):
    """cmd in a mount namespace where the source and build trees are empty."""
    tops = [d for d in {SOURCE_DIR, BUILD_DIR}
            if not any(d != o and d.startswith(o + "/") for o in {SOURCE_DIR, BUILD_DIR})]
    mounts = " && ".join("mount -t tmpfs tapio-hidden %s" % d for d in sorted(tops))
    return ["unshare", "-m", "--propagation", "private", "sh", "-c",
            mounts + ' && exec "$@"', "hidden"] + cmd


def destdir():
    if "destdir" not in STATE:
        d = tempfile.mkdtemp(prefix="tapio-destdir-")
        env = dict(os.environ, DESTDIR=d)
        sh(["cmake", "--install", BUILD_DIR, "--prefix", "/usr"], env=env)
        STATE["destdir"] = d
    return STATE["destdir"]


def test_install_layout():
    d = destdir()
    for rel in ("usr/bin/tapio-collector", "usr/bin/tapio-sink",
                "usr/share/tapio/rules/default", "usr/share/tapio/rules/security",
                "usr/share/tapio/rules/presets/security.lua", "usr/share/tapio/lua/tapio.lua",
                "usr/share/man/man8/tapio-collector.8", "usr/share/man/man8/tapio-sink.8",
                "usr/share/man/man7/tapio-rules.7", "usr/lib/systemd/system/tapio-collector.service",
                "etc/tapio/config.lua", "etc/tapio/rules.d/README.md", "etc/default/tapio-collector"):
        check(os.path.exists(os.path.join(d, rel)), "not installed: %s" % rel)
    for p in PRESETS:
        check(os.path.exists(os.path.join(d, "usr/share/tapio/rules/presets/%s.lua" % p)),
              "preset %s not installed" % p)
    unit = open(os.path.join(d, "usr/lib/systemd/system/tapio-collector.service")).read()
    check("ExecStart=/usr/bin/tapio-collector" in unit, "unit's ExecStart is not the installed binary")
    # No path of this tree's shipped files is compiled in. (The embedded BPF
    # objects carry their source file names in their line info: debug text
    # that nothing reads.)
    data = open(os.path.join(d, "usr/bin/tapio-collector"), "rb").read()
    for tree in (os.path.join(SOURCE_DIR, "rules"), os.path.join(SOURCE_DIR, "lua"),
                 os.path.join(BUILD_DIR, "share")):
        check(tree.encode() not in data, "the binary carries the path %s" % tree)


def test_installed_binary_validates_without_source_tree():
    d = destdir()
    binary = os.path.join(d, "usr/bin/tapio-collector")
    r = sh(hidden([binary, "--version"]))
    check(r.stdout.startswith("tapio-collector "), "--version: %r" % r.stdout)
    for p in PRESETS:
        r = sh(hidden([binary, "--validate", "-p", p]), ok=False)
        check(r.returncode == 0, "--validate -p %s: %s %s" % (p, r.stdout, r.stderr))
        check("rules OK" in r.stdout + r.stderr, "--validate -p %s said %r" % (p, r.stdout + r.stderr))
    # The shipped config file and the shipped sets by name.
    r = sh(hidden([binary, "--validate", "-c", os.path.join(d, "etc/tapio/config.lua"),
                   "-r", "@default", "-r", "@security"]), ok=False)
    check(r.returncode == 0, "--validate with the installed config: %s" % r.stderr)
    r = sh(hidden([binary, "--print-config"]))
    want = os.path.join(d, "usr/share/tapio/rules")
    check('dir = "%s"' % want in r.stdout, "rules.dir is not the installed one:\n%s" %
          "\n".join(l for l in r.stdout.splitlines() if "rules" in l))
    r = sh(hidden([os.path.join(d, "usr/bin/tapio-sink"), "--help"]))
    check("--listen" in r.stdout, "tapio-sink --help: %r" % r.stdout)


def long_options(help_text):
    return sorted(set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]+)", help_text)))


def test_man_pages():
    man = os.path.join(SOURCE_DIR, "docs/man")
    for page in ("tapio-collector.8", "tapio-sink.8", "tapio-rules.7"):
        r = sh(["groff", "-t", "-man", "-ww", "-z", "-Tutf8", os.path.join(man, page)],
               env=dict(os.environ, LC_ALL="C.UTF-8"))
        check(r.stderr == "", "%s: groff warns:\n%s" % (page, r.stderr))
    for binary, page in ((os.path.join(BUILD_DIR, "tapio-collector"), "tapio-collector.8"),
                         (os.path.join(BUILD_DIR, "tapio-sink"), "tapio-sink.8")):
        r = sh([binary, "--help"], ok=False)
        text = open(os.path.join(man, page)).read().replace("\\-", "-")
        missing = [o for o in long_options(r.stdout + r.stderr) if o not in text]
        check(not missing, "%s does not document %s (from --help)" % (page, ", ".join(missing)))


def unit_values(path, key):
    vals = []
    for line in open(path):
        if line.startswith(key + "="):
            vals += line.split("=", 1)[1].split()
    return vals


def test_systemd_unit_verifies():
    d = destdir()
    # The installed unit, its ExecStart pointed at the DESTDIR's binary (and
    # its man pages on MANPATH): verify checks that both exist.
    vdir = tempfile.mkdtemp(prefix="tapio-unit-")
    unit = os.path.join(vdir, "tapio-collector.service")
    text = open(os.path.join(d, "usr/lib/systemd/system/tapio-collector.service")).read()
    open(unit, "w").write(text.replace("/usr/bin/tapio-collector", os.path.join(d, "usr/bin/tapio-collector")))
    env = dict(os.environ, MANPATH=os.path.join(d, "usr/share/man"), SYSTEMD_LOG_COLOR="0")
    r = sh(["systemd-analyze", "verify", unit], ok=False, env=env)
    shutil.rmtree(vdir, ignore_errors=True)
    out = r.stdout + r.stderr
    check(r.returncode == 0 and "tapio-collector.service" not in out,
          "systemd-analyze verify: rc=%d\n%s" % (r.returncode, out))
    # What the unit promises.
    check(unit_values(UNIT, "ExecReload") == ["/bin/kill", "-HUP", "$MAINPID"], "ExecReload is not SIGHUP")
    check(unit_values(UNIT, "StateDirectory") == ["tapio"], "StateDirectory is not tapio")
    caps = unit_values(UNIT, "CapabilityBoundingSet")
    check(caps and "CAP_SYS_ADMIN" not in caps, "capability set %r" % caps)
    for k in ("NoNewPrivileges", "PrivateTmp", "ProtectKernelModules", "ProtectControlGroups"):
        check(unit_values(UNIT, k) == ["yes"], "%s is not yes" % k)
    check(unit_values(UNIT, "ProtectSystem") == ["strict"], "ProtectSystem is not strict")
    # Everything the agent writes by default lives in its StateDirectory.
    keys = sh([os.path.join(BUILD_DIR, "tapio-collector"), "--print-keys"]).stdout
    for key in ("storage.raw_dir", "delivery.spool_dir"):
        row = next(l for l in keys.splitlines() if l.startswith("| `%s`" % key))
        check('"/var/lib/tapio/' in row, "%s default is outside /var/lib/tapio: %s" % (key, row))


def all_caps():
    bnd = next(l.split()[1] for l in open("/proc/self/status") if l.startswith("CapBnd:"))
    r = sh(["capsh", "--decode=" + bnd])
    return r.stdout.strip().split("=", 1)[1].split(",")


def test_unit_capabilities_start_and_attach():
    """The binary with only the unit's capabilities (as root, bounding set
    cut to them, as systemd does) starts, attaches and runs."""
    d = destdir()
    want = [c.lower() for c in unit_values(UNIT, "CapabilityBoundingSet")]
    have = all_caps()
    keep = [c for c in want if c in have]
    missing = sorted(set(want) - set(keep))
    if missing:
        # This machine's own bounding set lacks them (CAP_SYS_RESOURCE here):
        # the run proves the agent needs no more than the rest.
        print("  note: this machine cannot grant %s; running without" % ", ".join(missing))
    drop = [c for c in have if c not in keep]
    # systemd mounts tracefs (sys-kernel-tracing.mount, the unit wants it).
    if not os.path.exists("/sys/kernel/tracing/events"):
        sh(["mount", "-t", "tracefs", "tracefs", "/sys/kernel/tracing"])
    state = tempfile.mkdtemp(prefix="tapio-state-")
    try:
        cmd = ["capsh", "--drop=" + ",".join(drop), "--",
               "-c", 'grep ^CapEff /proc/self/status >&2; exec "$@"', "agent",
               os.path.join(d, "usr/bin/tapio-collector"), "-o", "none", "-a",
               "-k", "categories=process,file,network", "--duration", "1s",
               "--raw-dir", os.path.join(state, "raw"), "--metrics-addr", "127.0.0.1:0",
               "--set", "delivery.spool_dir=" + os.path.join(state, "spool")]
        r = sh(cmd, timeout=180, ok=False)
        log = r.stderr
        eff = int(re.search(r"CapEff:\s+([0-9a-f]+)", log).group(1), 16)
        bits = {c: i for i, c in enumerate(sh(["capsh", "--decode=ffffffffff"]).stdout.strip()
                                            .split("=", 1)[1].split(","))}
        check(eff == sum(1 << bits[c] for c in keep), "effective set %x is not the unit's" % eff)
        check(r.returncode == 0, "agent with the unit's capabilities: exit %d\n%s" % (r.returncode, log[-3000:]))
        m = re.search(r"ready: (\d+) programs attached", log)
        check(m and int(m.group(1)) > 0, "no ready line with attached programs:\n%s" % log[-3000:])
        check("Operation not permitted" not in log and "EPERM" not in log,
              "a permission was refused:\n%s" % log[-3000:])
        check(os.path.isdir(os.path.join(state, "raw")), "raw storage not written")
    finally:
        shutil.rmtree(state, ignore_errors=True)


# ---------------------------------------------------------------- package

def dpkg_root():
    """A private root and dpkg database: the machine's installed packages
    (so dependencies resolve) and nothing of its files."""
    base = tempfile.mkdtemp(prefix="tapio-dpkg-")
    admin = os.path.join(base, "admin")
    root = os.path.join(base, "root")
    for sub in ("info", "updates", "triggers"):
        os.makedirs(os.path.join(admin, sub))
    os.makedirs(root)
    shutil.copy("/var/lib/dpkg/status", os.path.join(admin, "status"))
    open(os.path.join(admin, "available"), "w").close()
    # Empty file lists: dpkg would warn once per installed package otherwise.
    names = sh(["dpkg-query", "-W", "-f=${binary:Package}\\n"]).stdout.split()
    for n in names:
        open(os.path.join(admin, "info", n + ".list"), "w").close()
    return base, admin, root


def test_debian_package():
    out = tempfile.mkdtemp(prefix="tapio-cpack-")
    base = None
    real_state = os.path.exists("/var/lib/tapio")
    try:
        sh(["cpack", "-G", "DEB", "-B", out, "--config", os.path.join(BUILD_DIR, "CPackConfig.cmake")],
           timeout=300)
        debs = [f for f in os.listdir(out) if f.endswith(".deb")]
        check(len(debs) == 1, "cpack made %r" % debs)
        deb = os.path.join(out, debs[0])
        info = sh(["dpkg-deb", "-f", deb, "Package", "Depends"]).stdout
        check("Package: tapio-collector" in info, info)
        depends = re.search(r"Depends: (.*)", info).group(1)
        for dep in depends.split(","):
            name = dep.strip().split()[0]
            pol = sh(["apt-cache", "policy", name]).stdout
            check("Candidate:" in pol and "Candidate: (none)" not in pol,
                  "dependency %s is not a Debian package here" % name)
        files = sh(["dpkg-deb", "-c", deb]).stdout
        check("./usr/bin/tapio-collector" in files and "./etc/tapio/config.lua" in files, files[:2000])

        base, admin, root = dpkg_root()
        dpkg = ["dpkg", "--admindir=" + admin, "--instdir=" + root, "--force-script-chrootless",
                "--log=" + os.path.join(base, "dpkg.log")]
        sh(dpkg + ["-i", deb])
        status = sh(["dpkg-query", "--admindir=" + admin, "-W", "-f=${Status}", "tapio-collector"]).stdout
        check(status == "install ok installed", "status after install: %r" % status)
        conf = sh(["dpkg-query", "--admindir=" + admin, "-W", "-f=${Conffiles}", "tapio-collector"]).stdout
        for f in ("/etc/tapio/config.lua", "/etc/default/tapio-collector"):
            check(f in conf, "%s is not a conffile: %r" % (f, conf))
        binary = os.path.join(root, "usr/bin/tapio-collector")
        r = sh(hidden([binary, "--version"]))
        check(r.stdout.startswith("tapio-collector 0."), r.stdout)
        r = sh(hidden([binary, "--validate", "-c", os.path.join(root, "etc/tapio/config.lua")]), ok=False)
        check(r.returncode == 0, "packaged --validate: %s" % r.stderr)
        # Starts nothing unasked: no unit enabled, nothing outside the root.
        check(not os.path.exists(os.path.join(root, "etc/systemd/system/multi-user.target.wants")),
              "the package enabled its unit")
        check(os.path.exists("/var/lib/tapio") == real_state, "the package touched /var/lib/tapio")

        # A local rule and state the service would have made.
        with open(os.path.join(root, "etc/tapio/rules.d/local.lua"), "w") as f:
            f.write("-- local\n")
        os.makedirs(os.path.join(root, "var/lib/tapio/raw"))

        sh(dpkg + ["-r", "tapio-collector"])
        status = sh(["dpkg-query", "--admindir=" + admin, "-W", "-f=${Status}", "tapio-collector"]).stdout
        check(status == "deinstall ok config-files", "status after remove: %r" % status)
        left = sorted(os.path.relpath(os.path.join(dp, f), root)
                      for dp, _, fs in os.walk(root) for f in fs)
        check(left == ["etc/default/tapio-collector", "etc/tapio/config.lua",
                       "etc/tapio/rules.d/README.md", "etc/tapio/rules.d/local.lua"],
              "files left after remove: %r" % left)
        check(os.path.isdir(os.path.join(root, "var/lib/tapio/raw")), "remove deleted the state")

        sh(dpkg + ["-P", "tapio-collector"])
        left = sorted(os.path.relpath(os.path.join(dp, f), root)
                      for dp, _, fs in os.walk(root) for f in fs)
        check(left == ["etc/tapio/rules.d/local.lua"], "files left after purge: %r" % left)
        check(not os.path.exists(os.path.join(root, "var/lib/tapio")), "purge kept /var/lib/tapio")
        check(os.path.exists("/var/lib/tapio") == real_state, "purge touched this machine's /var/lib/tapio")
    finally:
        shutil.rmtree(out, ignore_errors=True)
        if base:
            shutil.rmtree(base, ignore_errors=True)


def cleanup():
    if "destdir" in STATE:
        shutil.rmtree(STATE["destdir"], ignore_errors=True)


if __name__ == "__main__":
    require_root()
    atexit.register(cleanup)
    run_tests([test_install_layout, test_installed_binary_validates_without_source_tree,
               test_man_pages, test_systemd_unit_verifies,
               test_unit_capabilities_start_and_attach, test_debian_package])
