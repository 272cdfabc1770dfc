#!/bin/sh
# Run benchmarks under tests/bench (bench_*.sh / bench_*.py, executable),
# each printing its own figures. Usage: tests/bench/run.sh [BUILD_DIR] [NAME...]
# This includes the component benchmarks (rules, enrichment, raw storage,
# delivery, kernel hooks...); `make bench` runs the suite of seven
# (tests/bench/suite.py) and writes BENCHMARKS.md. Benchmarks compare
# ratios within one run (this machine is shared and noisy) and report
# medians.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" && pwd)
shift 2>/dev/null || true
export TAPIO_BUILD_DIR="$build" TAPIO_SOURCE_DIR="$(cd "$here/../.." && pwd)"
status=0
for b in "$here"/bench_*; do
	[ -x "$b" ] || continue
	name=$(basename "$b")
	if [ $# -gt 0 ]; then
		case " $* " in *" ${name%.*} "* | *" $name "*) ;; *) continue ;; esac
	fi
	echo "== $name"
	"$b" || { echo "!! $name failed"; status=1; }
done
exit $status
