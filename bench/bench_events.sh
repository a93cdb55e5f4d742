#!/usr/bin/env bash
# Event-stream capacity: how many WebSocket clients of the live event stream
# (/api/v1/events) one `shenggu serve --http` holds, its memory per client,
# and how fast events reach them at a given event rate (issue M5, item 9;
# target: 50,000 clients in under 1 GiB, p99 delivery under 50 ms at 1,000
# events per second).
#
# T tenants, each with one supervisor (who logs in through the API) and A
# agents in one queue. bench/ws_load.c (built by bench/meson.build) opens
# CLIENTS WebSocket clients spread over the supervisors' tokens (so over the
# tenants: a supervisor's stream gets every event of its tenant), then sets
# agents ready / not ready through the API at RATE per second for DURATION
# seconds; every such change is one "agent.state" event on the tenant's
# streams. Delivery latency = the client's wall clock at arrival - the
# event's "time" (the server's wall clock at publication).
#
# Usage: bench/bench_events.sh [BUILD_DIR]      (default build-bench; created
#        with --buildtype=release -Db_ndebug=true when missing)
# Environment (defaults in brackets):
#   TENANTS=500 AGENTS=4     tenants, agents per tenant
#   CLIENTS=50000            WebSocket clients (client i: supervisor i % TENANTS)
#   RATE=1000 DURATION=30    events per second, seconds of events
#   CONNECT_RATE=5000        new WebSocket clients per second
#   CONNECT_TIMEOUT=120      seconds at most for connecting them all
#   PIN=1                    server on core 0, ws_load on core 1 (taskset)
#   PROFILE=0                1: perf record -g -p SERVER during the events
#   LOGIN_JOBS=16            logins in parallel (argon2id; the server takes 64)
#   NOFILE=200000            file descriptor limit of both processes (prlimit)
#   BENCH_RUN=/tmp/shenggu-bench-events   scratch folder (outside the repo)
#   DATA_DIR=$BENCH_RUN/data  the server's --data (on disk; e.g. /dev/shm/ev
#                            for tmpfs, a diagnostic)
# Output: "# ..." progress lines and one final "SUMMARY events ..." line.
# Loopback only; every wait is bounded; the server is stopped by its PID.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
BUILD=${1:-build-bench}
TENANTS=${TENANTS:-500}
AGENTS=${AGENTS:-4}
CLIENTS=${CLIENTS:-50000}
RATE=${RATE:-1000}
DURATION=${DURATION:-30}
CONNECT_RATE=${CONNECT_RATE:-5000}
CONNECT_TIMEOUT=${CONNECT_TIMEOUT:-120}
PIN=${PIN:-1}
PROFILE=${PROFILE:-0}
LOGIN_JOBS=${LOGIN_JOBS:-16}
NOFILE=${NOFILE:-200000}
RUN=${BENCH_RUN:-/tmp/shenggu-bench-events}
CLK_TCK=$(getconf CLK_TCK)

if [[ ! -f "$BUILD/build.ninja" ]]; then
    meson setup "$BUILD" --buildtype=release -Db_ndebug=true || exit 1
fi
buildtype=$(meson configure "$BUILD" 2>/dev/null | awk '$1 == "buildtype" { print $2; exit }')
if [[ "$buildtype" != release ]]; then
    echo "bench_events: warning: $BUILD is a '$buildtype' build; record figures from a release build" >&2
fi
ninja -C "$BUILD" shenggu bench/ws_load >/dev/null || exit 1
[[ "$BUILD" == /* ]] || BUILD="$ROOT/$BUILD"
BIN="$BUILD/shenggu"
LOAD="$BUILD/bench/ws_load"
for c in curl python3 taskset prlimit; do
    command -v "$c" >/dev/null || { echo "bench_events: $c missing" >&2; exit 1; }
done
rm -rf "$RUN"
mkdir -p "$RUN"
# Raising the hard limit needs CAP_SYS_RESOURCE; without it both processes
# keep the hard limit they have, and the clients over it fail (said here).
if prlimit --nofile="$NOFILE:$NOFILE" true 2>/dev/null; then
    LIM=(prlimit --nofile="$NOFILE:$NOFILE")
else
    NOFILE=$(ulimit -Hn)
    LIM=(prlimit --nofile="$NOFILE:$NOFILE")
    echo "bench_events: warning: cannot raise RLIMIT_NOFILE (no CAP_SYS_RESOURCE), staying at $NOFILE" >&2
fi
if [[ $((CLIENTS + 100)) -gt "$NOFILE" ]]; then
    echo "bench_events: warning: $CLIENTS clients need more than the $NOFILE file descriptors a process may have here" >&2
fi

SPID="" LPID=""
stop_all() { # our processes only, by PID: SIGTERM, SIGKILL after 5 s
    local p
    for p in $LPID $SPID; do
        kill -TERM "$p" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    SPID="" LPID=""
}
trap stop_all EXIT
trap 'stop_all; exit 130' INT TERM

SPIN=() CPIN=()
if [[ "$PIN" == 1 ]]; then SPIN=(taskset -c 0); CPIN=(taskset -c 1); fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
rss_kib() { awk -v k="${2:-VmRSS:}" '$1 == k {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
tcp_mem_kib() { awk -v pg="$(getconf PAGESIZE)" '$1 == "TCP:" { for (i = 2; i < NF; i++) if ($i == "mem") print $(i + 1) * pg / 1024 }' /proc/net/sockstat; }

# The provisioning document: tenant tN, supervisor "sup" (the only password:
# argon2id costs 20-60 ms per user at provisioning and at login), agents
# 1001.. in queue "q" by skill; no seat limit.
python3 - "$TENANTS" "$AGENTS" >"$RUN/doc.json" <<'PY'
import json, sys
T, A = int(sys.argv[1]), int(sys.argv[2])
tenants = []
for t in range(1, T + 1):
    users = [{"id": "sup", "password": "supervisor-pass-%d" % t, "roles": ["supervisor"]}]
    users += [{"id": str(1001 + a), "roles": ["agent"], "skills": {"s": 1}} for a in range(A)]
    tenants.append({"id": "t%d" % t, "name": "Tenant %d" % t, "domain": "t%d.example" % t,
                    "users": users, "queues": [{"id": "q", "strategy": "longest-idle", "skills": {"s": 1}}]})
print(json.dumps({"tenants": tenants}))
PY
agents=$(seq -s, 1001 $((1000 + AGENTS)))

HPORT=$(free_port)
SPORT=$(free_port)
DATA=${DATA_DIR:-$RUN/data}
mkdir -p "$DATA"
echo "# bench_events: $(uname -m), $(nproc) cores, build $BUILD ($buildtype), ${SPIN[*]:-unpinned}; $TENANTS tenants x (1 supervisor + $AGENTS agents), $CLIENTS clients, $RATE events/s for ${DURATION}s"
t0=$(date +%s.%N)
"${LIM[@]}" "${SPIN[@]}" "$BIN" serve --sip "127.0.0.1:$SPORT" \
    --http "127.0.0.1:$HPORT" --data "$DATA" --provision "$RUN/doc.json" \
    --log-level warn >"$RUN/serve.log" 2>&1 &
SPID=$!
base="http://127.0.0.1:$HPORT"
up=0
for _ in $(seq 1 3000); do # provisioning hashes one password per tenant: up to 300 s
    kill -0 "$SPID" 2>/dev/null || break
    if curl -s --max-time 2 "$base/api/v1/health" >/dev/null; then up=1; break; fi
    sleep 0.1
done
if [[ "$up" != 1 ]]; then
    echo "bench_events: the server did not come up; $RUN/serve.log:" >&2
    tail -5 "$RUN/serve.log" >&2
    exit 1
fi
echo "# server PID $SPID listening on $base after $(printf '%.1f' "$(echo "$(date +%s.%N) - $t0" | bc)")s"

# Log in every supervisor: "TOKEN TENANT" lines for ws_load.
t1=$(date +%s.%N)
seq 1 "$TENANTS" | xargs -P "$LOGIN_JOBS" -I{} sh -c '
    for try in 1 2 3; do
        tok=$(curl -s --max-time 30 -X POST "$1/api/v1/login" \
            --data-binary "{\"tenant\":\"t$2\",\"user\":\"sup\",\"password\":\"supervisor-pass-$2\"}" |
            sed -n "s/.*\"token\":\"\([^\"]*\)\".*/\1/p")
        if [ -n "$tok" ]; then echo "$tok t$2"; exit 0; fi
        sleep 1
    done' sh "$base" {} >"$RUN/tokens"
ntok=$(wc -l <"$RUN/tokens")
echo "# $ntok of $TENANTS supervisors logged in, $(printf '%.1f' "$(echo "$(date +%s.%N) - $t1" | bc)")s"
[[ "$ntok" -gt 0 ]] || exit 1

# Every agent ready before the measurement (the first "ready" also logs the
# agent in: two events), so that each PUT of ws_load is one event.
t1=$(date +%s.%N)
while read -r tok tenant; do
    urls=()
    for a in ${agents//,/ }; do urls+=(-o /dev/null "$base/api/v1/tenants/$tenant/agents/$a/state"); done
    curl -s --max-time 30 -w '%{http_code}\n' -X PUT -H "Authorization: Bearer $tok" \
        -H 'Content-Type: application/json' --data-binary '{"state":"ready"}' "${urls[@]}"
done <"$RUN/tokens" | sort | uniq -c | awk '{printf "# agents set ready: status %s x %s\n", $2, $1}'
echo "# ... in $(printf '%.1f' "$(echo "$(date +%s.%N) - $t1" | bc)")s"

sleep 2
RSS_IDLE=$(rss_kib "$SPID")
TCP0=$(tcp_mem_kib)
echo "# server VmRSS idle (provisioned, logged in, no stream client): $RSS_IDLE KiB, $(ls /proc/"$SPID"/fd | wc -l) open files, limit $NOFILE"

total=$((CONNECT_TIMEOUT + 3 + DURATION + 10 + 30))
timeout "$total" "${LIM[@]}" "${CPIN[@]}" "$LOAD" \
    --target "127.0.0.1:$HPORT" --tokens "$RUN/tokens" --clients "$CLIENTS" \
    --connect-rate "$CONNECT_RATE" --connect-timeout "$CONNECT_TIMEOUT" --hold 3 \
    --rate "$RATE" --agents "$agents" --ready --duration "$DURATION" --drain 10 >"$RUN/ws_load.log" 2>&1 &
LPID=$!

# Follow ws_load's phases: memory once every client is connected (before
# events), the server's CPU over the events.
RSS_CONN="" CPU0="" CPU1="" T_DRIVE0="" T_DRIVE1="" PERF=""
for _ in $(seq 1 $((total * 10))); do
    kill -0 "$LPID" 2>/dev/null || break
    if [[ -z "$RSS_CONN" ]] && grep -q '^phase=connected' "$RUN/ws_load.log"; then
        sleep 1
        RSS_CONN=$(rss_kib "$SPID")
        TCP1=$(tcp_mem_kib)
        echo "# $(grep '^phase=connected' "$RUN/ws_load.log"); server VmRSS $RSS_CONN KiB, kernel TCP memory $TCP1 KiB (was $TCP0)"
    fi
    if [[ -z "$CPU0" ]] && grep -q '^phase=drive' "$RUN/ws_load.log"; then
        CPU0=$(cpu_ticks "$SPID") T_DRIVE0=$(date +%s.%N)
        if [[ "$PROFILE" == 1 ]] && command -v perf >/dev/null; then
            perf record -g -o "$RUN/perf.data" -p "$SPID" -- sleep "$DURATION" >/dev/null 2>&1 &
            PERF=$!
        fi
    fi
    if [[ -n "$CPU0" && -z "$CPU1" ]] && grep -q '^phase=drain' "$RUN/ws_load.log"; then
        CPU1=$(cpu_ticks "$SPID") T_DRIVE1=$(date +%s.%N)
    fi
    sleep 0.1
done
wait "$LPID"
lrc=$?
LPID=""
[[ -n "$PERF" ]] && wait "$PERF"
RSS_END=$(rss_kib "$SPID")
HWM=$(rss_kib "$SPID" VmHWM:)
grep -v '^ws_load ' "$RUN/ws_load.log" | sed 's/^/# /'
line=$(grep '^ws_load clients=' "$RUN/ws_load.log")
if [[ -z "$line" ]]; then
    echo "bench_events: ws_load ended without a summary (status $lrc)" >&2
    exit 1
fi
echo "# $line"
get() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
connected=$(get connected)
held=$((connected - $(get lost)))
cpu=""
if [[ -n "$CPU1" ]]; then
    cpu=$(echo "scale=0; 100 * ($CPU1 - $CPU0) / $CLK_TCK / ($T_DRIVE1 - $T_DRIVE0)" | bc)
fi
per_client=""
[[ -n "$RSS_CONN" && "$connected" -gt 0 ]] && per_client=$(echo "scale=2; ($RSS_CONN - $RSS_IDLE) / $connected" | bc)
if [[ -n "$PERF" ]]; then
    perf report -i "$RUN/perf.data" --no-children --percent-limit 1.5 --stdio 2>/dev/null |
        grep -E '^ +[0-9.]+%' | head -25 >"$RUN/perf.top"
    echo "# perf record -g -p SERVER during the events; top symbols (self):"
    sed 's/^/#   /' "$RUN/perf.top"
fi
tail -3 "$RUN/serve.log" | grep -q . && { echo "# server log (last lines):"; tail -3 "$RUN/serve.log" | sed 's/^/#   /'; }
echo "SUMMARY events clients=$CLIENTS connected=$connected held=$held tenants=$TENANTS" \
    "rss_idle_kib=$RSS_IDLE rss_connected_kib=${RSS_CONN:-?} rss_end_kib=$RSS_END rss_hwm_kib=$HWM" \
    "kib_per_client=${per_client:-?} rate=$RATE events_per_s=$(get events_per_s)" \
    "lat_p50_ms=$(get lat_p50_ms) lat_p99_ms=$(get lat_p99_ms) lat_max_ms=$(get lat_max_ms)" \
    "msgs_per_s=$(get msgs_per_s) delivered=$(get agent_state) expected=$(get expected)" \
    "gaps=$(get gaps) server_cpu_pct=${cpu:-?} ws_load_cpu_s=$(get cpu_s)"
stop_all
