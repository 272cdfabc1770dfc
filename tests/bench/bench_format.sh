#!/bin/sh
# -o json's formatter alone (bench_format.c), on an exec line and an open
# line: CPU ns/event, then callgrind instructions per event (the difference
# of N2 and N1 events, so start-up cancels out), repeatable on a busy
# machine. No root needed.
#   tests/bench/run.sh build bench_format
set -eu
build=${TAPIO_BUILD_DIR:-build}
for line in exec open; do
	"$build/tests/bench_format" "${N:-300000}" $line 2>/dev/null
done
command -v valgrind >/dev/null || { echo "valgrind not installed: no instruction count"; exit 0; }
ir() {
	valgrind --tool=callgrind --callgrind-out-file=/dev/null "$build/tests/bench_format" "$1" "$2" 2>&1 >/dev/null |
		sed -n 's/.*Collected : *//p'
}
for line in exec open; do
	a=$(ir 10000 $line)
	b=$(ir 30000 $line)
	echo "json $line: $(( (b - a) / 20000 )) instructions/event (callgrind, 30000 - 10000 events)"
done
