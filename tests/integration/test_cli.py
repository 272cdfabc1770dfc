"""Command line: bad flags and values fail with a clear message and a
non-zero exit; --help and --version work; clean failure without privileges."""
import os
import shutil
import subprocess

from tapio import BIN, check, require_root, run_tests


def run(*args, **kw):
    return subprocess.run([BIN] + list(args), capture_output=True, text=True, timeout=30, **kw)


def test_unknown_flag():
    r = run("--frobnicate")
    check(r.returncode == 2, "exit code %r" % r.returncode)
    check("unknown option '--frobnicate'" in r.stderr, "stderr %r" % r.stderr)
    check("--help" in r.stderr, "no hint to --help: %r" % r.stderr)
    check(r.stdout == "", "stdout not empty: %r" % r.stdout)


def test_misspelled_flag_gets_suggestion():
    r = run("--all-event")
    check(r.returncode == 2, "exit code %r" % r.returncode)
    check("did you mean '--all-events'" in r.stderr, "stderr %r" % r.stderr)
    r = run("--ouput", "json")
    check("did you mean '--output'" in r.stderr, "stderr %r" % r.stderr)


def test_unknown_short_flag():
    r = run("-Z")
    check(r.returncode == 2 and "unknown option '-Z'" in r.stderr, "stderr %r" % r.stderr)


def test_bad_values():
    for args, text in ((["-o", "xml"], "invalid value 'xml' for --output"),
                       (["--duration", "soon"], "invalid value 'soon' for --duration"),
                       (["--log-level", "loud"], "invalid value 'loud' for --log-level"),
                       (["--buffer-size", "-5"], "invalid value '-5' for --buffer-size"),
                       (["-o"], "needs a value"),
                       (["stray"], "unexpected argument 'stray'")):
        r = run(*args)
        check(r.returncode == 2, "%r: exit code %r" % (args, r.returncode))
        check(text in r.stderr, "%r: stderr %r" % (args, r.stderr))


def test_bad_environment():
    r = run("--version", env=dict(os.environ, TAPIO_LOG_LEVEL="chatty"))
    check(r.returncode == 2 and "TAPIO_LOG_LEVEL" in r.stderr, "stderr %r" % r.stderr)


def test_help_and_version():
    r = run("--help")
    check(r.returncode == 0, "exit code %r" % r.returncode)
    for flag in ("--config", "--preset", "--rules", "--server", "--otlp", "--output", "--all-events",
                 "--raw-dir", "--buffer-size", "--flush-interval", "--correlation", "--duration",
                 "--metrics-addr", "--log-level", "--validate", "--version", "--help"):
        check(flag in r.stdout, "--help does not mention %s" % flag)
    r = run("--version")
    check(r.returncode == 0 and r.stdout.startswith("tapio-collector "), "version %r" % r.stdout)


def test_not_root_fails_cleanly():
    setpriv = shutil.which("setpriv")
    check(setpriv, "setpriv (util-linux) is needed")
    r = subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
                        "--inh-caps=-all", "--bounding-set=-all", BIN, "-o", "json"],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 1, "exit code %r" % r.returncode)
    check("needs root" in r.stderr, "stderr %r" % r.stderr)
    check(len(r.stderr.strip().splitlines()) == 1, "more than one line: %r" % r.stderr)
    check(r.stdout == "", "stdout %r" % r.stdout)


if __name__ == "__main__":
    require_root()
    run_tests([test_unknown_flag, test_misspelled_flag_gets_suggestion, test_unknown_short_flag,
               test_bad_values, test_bad_environment, test_help_and_version,
               test_not_root_fails_cleanly])
