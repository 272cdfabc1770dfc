"""rules/README.md stays true: its table of shipped rules is what
scripts/rules_table.lua makes of the rule files today, and that generator
counts the same rules as the collector's own loader."""
import os
import re
import subprocess

from tapio import BIN, SOURCE_DIR, check, run_tests

RULES = os.path.join(SOURCE_DIR, "rules")
GEN = os.path.join(SOURCE_DIR, "scripts", "rules_table.lua")


def test_table_is_current():
    r = subprocess.run(["lua5.4", GEN, RULES, "--check"], capture_output=True, text=True)
    check(r.returncode == 0, "rules/README.md: %s" % r.stderr.strip())


def test_generator_counts_what_the_loader_loads():
    table = subprocess.run(["lua5.4", GEN, RULES], capture_output=True, text=True, check=True)
    total = int(re.search(r"^\| all \| (\d+) \|$", table.stdout, re.M).group(1))
    v = subprocess.run([BIN, "--validate", "-r", "@default", "-r", "@security"],
                       capture_output=True, text=True)
    check(v.returncode == 0, "--validate failed: %s%s" % (v.stdout, v.stderr))
    m = re.search(r"rules OK: (\d+) rules", v.stdout + v.stderr)
    check(m is not None, "no rule count in: %s" % v.stdout)
    check(int(m.group(1)) == total, "the table lists %d rules, the loader loads %s"
          % (total, m.group(1)))


if __name__ == "__main__":
    run_tests([test_table_is_current, test_generator_counts_what_the_loader_loads])
