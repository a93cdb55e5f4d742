#!/usr/bin/env bash
# Run every libFuzzer target of fuzz/ for a bounded time (make fuzz, make test).
#
# Usage: scripts/fuzz.sh BUILD_DIR SECONDS
#   BUILD_DIR  a build configured with -Dfuzz=true (CC=clang), already built
#   SECONDS    time per target (-max_total_time); the targets run one after
#              the other, so the whole run takes about SECONDS times the
#              number of targets (11)
#
# Each target starts from a scratch copy of fuzz/corpus/<target>/ plus, when
# ../shared/testdata/sip-torture/ is beside the checkout, the RFC 4475/5118
# torture messages (read at run time, never copied into the repository), so
# the committed corpus changes only on purpose: FUZZ_MERGE=1 merges what the
# run found (inputs that add coverage) into fuzz/corpus/. Crashing inputs go
# to fuzz/artifacts/ (ignored by git).
#
# Prints execs/s per target at the end. Exit status: 0 when no target found
# anything, 1 when one crashed, leaked, hung or is missing, 2 on usage.
set -uo pipefail
cd "$(dirname "$0")/.."

if [[ $# -ne 2 || ! "$2" =~ ^[0-9]+$ || "$2" -eq 0 ]]; then
    echo "usage: $0 BUILD_DIR SECONDS" >&2
    exit 2
fi
build="$1"
seconds="$2"
targets=(fuzz_sip_msg fuzz_sip_frame fuzz_sip_uri fuzz_auth fuzz_prov fuzz_sdp fuzz_rtp fuzz_wav fuzz_ivr fuzz_qlog fuzz_http)
torture=../shared/testdata/sip-torture/messages
artifacts=fuzz/artifacts

scratch=$(mktemp -d "${TMPDIR:-/tmp}/shenggu-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$artifacts"

# Torture messages as seeds, in each target's input format (see the comment
# at the top of each fuzz/<target>.c). Named torture-* so a merge skips them.
add_torture() {
    local target="$1" dir="$2" f name ruri
    [[ -d "$torture" ]] || return 0
    for f in "$torture"/*.dat; do
        name=$(basename "$f" .dat)
        case "$target" in
        fuzz_sip_msg)
            { printf 1; cat "$f"; } > "$dir/torture-$name-dgram"
            { printf 0; cat "$f"; } > "$dir/torture-$name" ;;
        fuzz_sip_frame)
            { printf a; cat "$f"; } > "$dir/torture-$name" ;;
        fuzz_sip_uri)
            # The Request-URI of each request, as a Request-URI ('2').
            ruri=$(head -n 1 "$f" | tr -d '\r' | awk '$1 !~ /^SIP\// { print $2 }')
            [[ -n "$ruri" ]] && printf '2%s' "$ruri" > "$dir/torture-$name" ;;
        esac
    done
}

declare -A result execs runs
failed=0
[[ -d "$torture" ]] || echo "fuzz: $torture not found; seeding from fuzz/corpus only"
for t in "${targets[@]}"; do
    bin="$build/fuzz/$t"
    if [[ ! -x "$bin" ]]; then
        echo "fuzz: $bin missing (configure with -Dfuzz=true and build it)" >&2
        result[$t]=missing
        failed=1
        continue
    fi
    corpus="$scratch/$t"
    mkdir -p "$corpus"
    [[ -d fuzz/corpus/$t ]] && cp -R fuzz/corpus/"$t"/. "$corpus"/
    add_torture "$t" "$corpus"
    log="$scratch/$t.log"

    echo "fuzz: $t for ${seconds}s ($(ls "$corpus" | wc -l) seeds)"
    "$bin" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
        -dict=fuzz/sip.dict -artifact_prefix="$artifacts/$t-" -print_final_stats=1 \
        "$corpus" > "$log" 2>&1
    rc=$?
    execs[$t]=$(awk '/^stat::average_exec_per_sec:/ { print $2 }' "$log")
    runs[$t]=$(awk '/^stat::number_of_executed_units:/ { print $2 }' "$log")
    if [[ $rc -eq 0 ]]; then
        result[$t]=ok
    else
        result[$t]="FAILED (exit $rc)"
        failed=1
        # The sanitizer's or the target's report, and where the input went.
        echo "fuzz: $t failed; end of its log:" >&2
        grep -v '^#[0-9]' "$log" | tail -n 60 >&2
    fi
    if [[ "${FUZZ_MERGE:-0}" == 1 && $rc -eq 0 ]]; then
        rm -f "$corpus"/torture-*
        "$bin" -merge=1 -max_len=8192 fuzz/corpus/"$t" "$corpus" > "$scratch/$t.merge" 2>&1 ||
            echo "fuzz: merge into fuzz/corpus/$t failed" >&2
    fi
done

echo
printf '%-16s %10s %12s  %s\n' target execs/s runs result
for t in "${targets[@]}"; do
    printf '%-16s %10s %12s  %s\n' "$t" "${execs[$t]:--}" "${runs[$t]:--}" "${result[$t]}"
done
ok=0
for t in "${targets[@]}"; do [[ "${result[$t]}" == ok ]] && ok=$((ok + 1)); done
if [[ $failed -ne 0 ]]; then
    echo "fuzz: crashing inputs are in $artifacts/" >&2
fi
echo "fuzz: $ok passed, $(( ${#targets[@]} - ok )) failed"
exit $failed
