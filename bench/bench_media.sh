#!/usr/bin/env bash
# Media relay benchmark: N bridged calls (two legs each, 20 ms PCMU packets
# both ways, from loopback sockets) through a relay pinned to core 0, with
# the load generator (bench/rtp_load) on core 1, N stepped up until more than
# 0.1% of the packets are lost or the mean added jitter passes 5 ms. Three
# relays in the same run:
#   shenggu      the media engine (src/media/media_engine.h), one media
#                thread, driven by bench/media_relay_bench (no SIP)
#   shenggu+rec  the same, every call recorded to a stereo WAV (on disk,
#                synced every 2 s, deleted when finished)
#   rtpengine    Debian's rtpengine (scripts/deps.sh), userspace forwarding
#                (--table=-1, no kernel module), one worker thread, set up
#                over its ng protocol (offer/answer)
# It prints a table and a SUMMARY line: the most calls each relay held, the
# ratio, and each relay's CPU at the largest N that all held. A step marked
# OK* held while the generator (one core too) ran late and sent in bursts.
#
# Usage: bench/bench_media.sh [BUILD_DIR]          (default build-bench)
# Environment (defaults in brackets):
#   STEPS="250,500,750,1000,1250,1500,2000,2500,3000"   calls per step
#   STEP_S=4        measured seconds per step (after 1 s of warm-up)
#   PEER=1          run rtpengine (0: skip)
#   RECORD=1        run shenggu+rec (0: skip)
#   BENCH_RUN=/tmp/shenggu-bench-media   scratch folder (recordings)
# Every process started here is stopped by its PID; the run is bounded
# (a step is at most setup + 1 s + STEP_S + teardown; about 3 minutes in all).
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build-bench}
STEPS=${STEPS:-250,500,750,1000,1250,1500,2000,2500,3000}
STEP_S=${STEP_S:-4}
PEER=${PEER:-1}
RECORD=${RECORD:-1}
RUN=${BENCH_RUN:-/tmp/shenggu-bench-media}
CTL_SHENGGU=19990
CTL_NG=19991

if [[ ! -f "$BUILD/build.ninja" ]]; then
    meson setup "$BUILD" --buildtype=release -Db_ndebug=true || exit 1
fi
ninja -C "$BUILD" bench/media_relay_bench bench/rtp_load >/dev/null || exit 1
DRIVER="$BUILD/bench/media_relay_bench"
LOAD="$BUILD/bench/rtp_load"
for c in taskset; do
    command -v "$c" >/dev/null || { echo "bench_media: $c missing (util-linux)" >&2; exit 1; }
done
if [[ "$PEER" == 1 ]] && ! command -v rtpengine >/dev/null; then
    echo "bench_media: rtpengine not installed (scripts/deps.sh: rtpengine-daemon); skipping it" >&2
    PEER=0
fi
# Four sockets per call on the relay: raise the descriptor limit to the hard one.
ulimit -n "$(ulimit -Hn)" 2>/dev/null
rm -rf "$RUN"
mkdir -p "$RUN/rec"

RPID=""
stop_relay() { # SIGTERM by PID, SIGKILL after 5 s
    [[ -n "$RPID" ]] || return 0
    kill -TERM "$RPID" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$RPID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$RPID" 2>/dev/null
    wait "$RPID" 2>/dev/null
    RPID=""
}
trap stop_relay EXIT
trap 'stop_relay; exit 130' INT TERM

# wait_up TARGET PORT: until the relay answers on its control port (10 s at most).
wait_up() {
    for _ in $(seq 1 30); do
        "$LOAD" --target "$1" --ctl "$2" --probe && return 0
        kill -0 "$RPID" 2>/dev/null || return 1
    done
    return 1
}

# run LABEL TARGET CTL: the load generator's steps against the running relay.
run() {
    taskset -c 1 "$LOAD" --target "$2" --ctl "$3" --label "$1" --relay-pid "$RPID" \
        --steps "$STEPS" --seconds "$STEP_S" | tee -a "$RUN/rows.txt"
}

echo "bench_media: $(uname -m), $(nproc) cores, relay on core 0, generator on core 1, build $BUILD"
: >"$RUN/rows.txt"

taskset -c 0 "$DRIVER" --ctl "$CTL_SHENGGU" --cpu 0 --ports 20000-39999 2>"$RUN/shenggu.log" &
RPID=$!
if wait_up shenggu "$CTL_SHENGGU"; then run shenggu shenggu "$CTL_SHENGGU"; else echo "bench_media: driver did not start" >&2; fi
stop_relay

if [[ "$RECORD" == 1 ]]; then
    taskset -c 0 "$DRIVER" --ctl "$CTL_SHENGGU" --cpu 0 --ports 20000-39999 --record "$RUN/rec" \
        2>"$RUN/shenggu-rec.log" &
    RPID=$!
    if wait_up shenggu "$CTL_SHENGGU"; then run shenggu+rec shenggu "$CTL_SHENGGU"; else echo "bench_media: driver did not start" >&2; fi
    stop_relay
fi

if [[ "$PEER" == 1 ]]; then
    taskset -c 0 rtpengine --config-file=none --table=-1 --interface=127.0.0.1 \
        --listen-ng=127.0.0.1:"$CTL_NG" --port-min=40000 --port-max=59999 --foreground \
        --log-stderr --log-level=3 --num-threads=1 --delete-delay=0 2>"$RUN/rtpengine.log" &
    RPID=$!
    if wait_up rtpengine "$CTL_NG"; then run rtpengine rtpengine "$CTL_NG"; else echo "bench_media: rtpengine did not start (see $RUN/rtpengine.log)" >&2; fi
    stop_relay
fi

echo
awk '
/^ROW / {
    for (i = 3; i <= NF - 1; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "%-12s %6s %8s %8s %9s %9s %8s %8s %8s  %s\n", $2, v["calls"], v["pps"], v["loss_pct"],
        v["jitter_ms"], v["jitter_max_ms"], v["relay_cpu_pct"], v["gen_cpu_pct"], v["gen_late_p99_ms"], $NF
}' "$RUN/rows.txt" | { printf "%-12s %6s %8s %8s %9s %9s %8s %8s %8s  %s\n" relay calls pps loss% \
    jitter_ms jit_max relay%cpu gen%cpu late_p99 verdict; cat; }

awk -v peer="$PEER" '
/^ROW / {
    for (i = 3; i <= NF - 1; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    if ($NF == "OK" || $NF == "OK*") { ok[$2, v["calls"]] = v["relay_cpu_pct"]; if (v["calls"] + 0 > max[$2]) max[$2] = v["calls"] + 0 }
    if ($NF == "OK*") genlim[$2] = 1
    if ($NF == "FAIL") failed[$2] = 1
    seen[$2] = 1; calls[v["calls"]] = 1
}
END {
    n = split("shenggu shenggu+rec rtpengine", names, " ")
    line = "SUMMARY media relay, most calls held (loss<=0.1%, jitter<=5 ms):"
    for (k = 1; k <= n; k++) if (seen[names[k]]) line = line sprintf(" %s=%s%d%s", names[k], failed[names[k]] ? "" : ">=", max[names[k]] + 0, genlim[names[k]] ? "(generator late)" : "")
    if (seen["rtpengine"] && max["rtpengine"] > 0)
        line = line sprintf("; shenggu/rtpengine=%.2f", max["shenggu"] / max["rtpengine"])
    # The largest N that every relay held: compare their CPU there.
    best = 0
    for (c in calls) {
        all = 1
        for (k = 1; k <= n; k++) if (seen[names[k]] && !((names[k], c) in ok)) all = 0
        if (all && c + 0 > best) best = c + 0
    }
    if (best > 0) {
        line = line sprintf("; relay CPU at %d calls:", best)
        for (k = 1; k <= n; k++) if (seen[names[k]]) line = line sprintf(" %s=%.0f%%", names[k], ok[names[k], best])
        if (seen["rtpengine"] && ok["shenggu", best] > 0)
            line = line sprintf(" (rtpengine/shenggu=%.2f)", ok["rtpengine", best] / ok["shenggu", best])
    }
    print line
}' "$RUN/rows.txt"
