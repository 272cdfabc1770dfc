#!/bin/bash
# desc: the Looney Tunables loader exploit's trigger (CVE-2023-4911) from a user: a GLIBC_TUNABLES value holding a second assignment handed to su, an oversized one to passwd from python, and one to sudo (glibc here is patched: the programs only print their help or fail)
# mitre: T1068, T1574.006, T1548.001
# expect: glibc_tunables_exploit_attempt*3
source "$ATTACK_LIB"

filler=$(printf 'A%.0s' $(seq 1 300))
as_user env -i "GLIBC_TUNABLES=glibc.malloc.mxfast=glibc.malloc.mxfast=$filler" "Z=$filler" \
	/usr/bin/su --help >/dev/null 2>&1 || true
as_user /usr/bin/python3 -c '
import subprocess, sys
subprocess.run(["/usr/bin/passwd", "-S"], env={"GLIBC_TUNABLES": "glibc.malloc.tcache_count=" + sys.argv[1]},
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)' "$filler"
as_user env "GLIBC_TUNABLES=glibc.mem.tagging=glibc.mem.tagging=1:glibc.malloc.check=2" \
	/usr/bin/sudo -n true >/dev/null 2>&1 || true
