#!/usr/bin/python3
"""A quick check, in `make test`, that the benchmark suite still runs: the
test-only BPF producer loads and writes into a bare consumer's ring (every
record read, none dropped), and every benchmark script compiles. The
benchmarks themselves run with `make bench`, never in the test suite."""
import glob
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402


def main():
    for f in glob.glob(os.path.join(bl.HERE, "*.py")):
        with open(f) as src:
            compile(src.read(), f, "exec")
    if os.geteuid() != 0:
        print("SKIP: the producer needs root")
        return 77
    c = bl.Proc([bl.BARE, str(1 << 20), "--ring-only"], ready="ready")
    sent = 0
    try:
        for mix in ("node", "procs", "open"):
            p = bl.produce(c.pid, 10, count=1000, mix=mix)
            assert p["emitted"] == 1000 and p["full"] == 0, (mix, p)
            sent += p["emitted"]
    finally:
        c.stop()
    line = c.wait_for("records ", 10) or ""
    w = line.split()
    assert len(w) == 6 and int(w[1]) == sent and int(w[5]) == 0, (line, sent)
    print("ok: %d records from the producer read by the bare consumer" % sent)
    return 0


if __name__ == "__main__":
    sys.exit(main())
