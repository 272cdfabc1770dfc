#!/bin/sh
# Raw storage cost: capture this machine's real event mix with a live run
# (as root), then time the pipeline with and without the storage stage on
# that load (bench_raw_storage.c says what each figure means).
#   tests/bench/run.sh build bench_raw_storage
set -eu
build=${TAPIO_BUILD_DIR:-build}
work=$(mktemp -d /var/tmp/tapio-bench-raw-XXXXXX)
trap 'rm -rf "$work"' EXIT
if [ "$(id -u)" -ne 0 ]; then
	echo "bench_raw_storage: needs root to capture live events" >&2
	exit 1
fi
# A workload of execs with arguments, forks and exits while the collector
# records; whatever else runs on the machine is in the mix too.
"$build/tapio-collector" -o none --raw-dir "$work/corpus" --duration 6s 2>"$work/live.log" &
pid=$!
sleep 1
i=0
while [ $i -lt 1500 ]; do
	/bin/true "arg-$i" --some-flag /some/path/$i
	i=$((i + 1))
done
wait $pid || { cat "$work/live.log" >&2; exit 1; }
"$build/tests/bench_raw_storage" "$work/corpus" "$work/out" "${ROUNDS:-7}"
