#!/usr/bin/env bash
# Every test, in order: unit tests (AddressSanitizer + UBSan, then again
# failing each allocation in turn), system tests against the real binary
# (built with the same sanitizers), the RFC torture corpus, and a bounded
# fuzz run. Each suite prints "<suite>: N passed, M failed"; this script adds
# them up and ends with the plain summary line "N passed, M failed".
#
# Usage: scripts/test-all.sh ASAN_BUILD_DIR FUZZ_BUILD_DIR
set -uo pipefail
cd "$(dirname "$0")/.."
asan="$1"
fuzz="$2"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
suites_failed=0

# ASan must abort on the first error so a report is never missed.
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"

run() { # run NAME COMMAND...
    local name="$1" rc
    shift
    echo "=== $name"
    "$@" 2>&1 | tee -a "$log"
    rc=${PIPESTATUS[0]}
    if [[ $rc -ne 0 ]]; then
        echo "=== $name: FAILED (exit $rc)"
        suites_failed=$((suites_failed + 1))
    fi
}

format_check() {
    local bad
    bad=$(clang-format --dry-run $(git ls-files '*.c' '*.h') 2>&1 | grep -c 'warning:')
    if [[ "$bad" -eq 0 ]]; then
        echo "format: 1 passed, 0 failed"
    else
        clang-format --dry-run $(git ls-files '*.c' '*.h') 2>&1 | grep 'warning:' | head -20
        echo "format: 0 passed, 1 failed (run make format)"
        return 1
    fi
}

run format format_check
run unit "$asan/tests/unit/unit-tests"
run unit-oom "$asan/tests/unit/unit-tests" --oom
run sip-lint tests/system/test_sip_lint.sh "$asan"
run provision tests/system/test_provision.sh "$asan"
run store-pg tests/system/test_store_pg.sh "$asan"
run serve tests/system/test_serve.sh "$asan"
run register tests/system/test_register.sh "$asan"
run baresip tests/system/test_baresip.sh "$asan"
run sipvicious tests/system/test_sipvicious.sh "$asan"
run calls tests/system/test_calls.sh "$asan"
run recording tests/system/test_recording.sh "$asan"
run acd tests/system/test_acd.sh "$asan"
run api tests/system/test_api.sh "$asan"
run webhooks tests/system/test_webhooks.sh "$asan"
run api-pg tests/system/test_api_pg.sh "$asan"
run baresip-calls tests/system/test_baresip_calls.sh "$asan"
run torture tests/system/torture.sh "$asan"
run fuzz scripts/fuzz.sh "$fuzz" "${FUZZ_SMOKE_SECONDS:-12}"

# Sum every suite's "N passed, M failed" (check.sh prints it bare).
read -r passed failed < <(grep -E '(^|: )[0-9]+ passed, [0-9]+ failed' "$log" |
    sed -E 's/.*(^|: )([0-9]+) passed, ([0-9]+) failed.*/\2 \3/' |
    awk '{p += $1; f += $2} END {print p + 0, f + 0}')
# A suite that died without its summary still fails the run.
failed=$((failed + suites_failed))
echo
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
