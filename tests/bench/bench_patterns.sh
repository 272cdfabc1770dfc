#!/bin/sh
# ns per call of typical rule patterns: our step-counting matcher against
# the stock Lua string library (bench_patterns.c says what each column means).
#   tests/bench/run.sh build bench_patterns
set -eu
build=${TAPIO_BUILD_DIR:-build}
"$build/tests/bench_patterns" "${ROUNDS:-9}"
