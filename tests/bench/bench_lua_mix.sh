#!/bin/sh
# The node mix through the security preset's rules in process (no root;
# bench_lua_mix.c says what it runs): median thread CPU ns/event, and with
# CALLGRIND=1 the instructions per event of the loop under callgrind,
# which a busy machine does not move: compare two builds with
#   CALLGRIND=1 tests/bench/run.sh BUILD_DIR bench_lua_mix   (each build)
set -eu
build=${TAPIO_BUILD_DIR:-build}
src=${TAPIO_SOURCE_DIR:-.}
bin="$build/tests/bench_lua_mix"
"$bin" "$src/rules" "${REPEAT:-500}" "${ROUNDS:-5}"
[ "${CALLGRIND:-0}" = 1 ] || exit 0
if ! command -v valgrind >/dev/null; then
	echo "CALLGRIND=1: valgrind is not installed (apt-get install valgrind)"
	exit 1
fi
out=$(mktemp)
n=${CALLGRIND_REPEAT:-20}
line=$(valgrind --tool=callgrind --collect-atstart=no --toggle-collect=run_mix \
	--callgrind-out-file="$out" "$bin" "$src/rules" "$n" 1 2>"$out.log") ||
	{ cat "$out.log"; rm -f "$out" "$out.log"; exit 1; }
ir=$(sed -n 's/^summary: *//p' "$out")
rm -f "$out" "$out.log"
# run_mix's calls: one pass to warm up, then n passes, over the mix's records
recs=$(echo "$line" | sed -n 's/^node mix (\([0-9]*\) records).*/\1/p')
echo "instructions per event under callgrind: $((ir / ((n + 1) * recs))) ($ir over $((n + 1)) x $recs events)"
