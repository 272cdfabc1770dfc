#!/bin/sh
# Sampler cost per event and /metrics render cost (bench_sampler.c says what
# each figure means). No root needed.
#   tests/bench/run.sh build bench_sampler
set -eu
build=${TAPIO_BUILD_DIR:-build}
"$build/tests/bench_sampler" "${ROUNDS:-7}"
