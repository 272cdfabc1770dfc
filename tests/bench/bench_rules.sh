#!/bin/sh
# Per-event cost of the Lua rules against the bare decode path (no root,
# synthetic mix; bench_rules.c says what each figure means).
#   tests/bench/run.sh build bench_rules
set -eu
build=${TAPIO_BUILD_DIR:-build}
src=${TAPIO_SOURCE_DIR:-.}
"$build/tests/bench_rules" "$src/rules" "${ROUNDS:-9}"
