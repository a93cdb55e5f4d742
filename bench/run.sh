#!/usr/bin/env bash
# Run the benchmarks in bench/ from a release build, pinned to one core
# (the registrar benchmark: server on core 0, SIPp on core 1).
#
# Usage: bench/run.sh [BUILD_DIR] [SECONDS]
#   BUILD_DIR  default build-bench; created with --buildtype=release
#              -Db_ndebug=true when missing (figures from a debug or
#              sanitizer build are not worth recording; a warning says so).
#   SECONDS    time per (message, parser) pair, default 2 (5 rounds, median).
# Exit status: non-zero when a build fails or any parse failed.
set -euo pipefail
cd "$(dirname "$0")/.."

build="${1:-build-bench}"
seconds="${2:-2}"

if [[ ! -f "$build/build.ninja" ]]; then
    meson setup "$build" --buildtype=release -Db_ndebug=true
fi
buildtype=$(meson configure "$build" 2>/dev/null | awk '$1 == "buildtype" { print $2; exit }')
if [[ "$buildtype" != release ]]; then
    echo "bench: warning: $build is a '$buildtype' build; record figures from a release build" >&2
fi
ninja -C "$build"

bin="$build/bench/bench_sip_parse"
if [[ ! -x "$bin" ]]; then
    echo "bench: $bin was not built (is libosip2-dev installed? scripts/deps.sh)" >&2
    exit 1
fi

pin=()
if command -v taskset >/dev/null 2>&1; then
    pin=(taskset -c 0)
else
    echo "bench: taskset not found, running unpinned" >&2
fi
echo "bench: $(uname -m), $(nproc) cores, ${pin[*]:-unpinned}, build $build ($buildtype)"
"${pin[@]}" "$bin" "$seconds"

# Registrar: authenticated REGISTER rate of shenggu serve and of Kamailio in
# the same run (SIPp on loopback, pinned), and the memory of 50,000 agents.
bench/bench_register.sh "$build"
