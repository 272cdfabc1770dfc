#!/bin/sh
# Enrichment cost per event and memory per tracked process, on a synthetic
# stream (bench_enrich.c says what each figure means); no root needed.
#   tests/bench/run.sh build bench_enrich
set -eu
build=${TAPIO_BUILD_DIR:-build}
exec "$build/tests/bench_enrich" "${ROUNDS:-7}"
