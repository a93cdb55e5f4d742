#!/usr/bin/env bash
# Queued calls end to end: calls per second of `shenggu serve` for the whole
# contact-center call (caller -> queue -> ACD offer -> agent answers -> 1 s of
# talk -> the agent hangs up -> BYE to the caller), SIPp on loopback, and
# Kamailio proxying the same SIPp call shape as a stateful proxy (tm +
# record-route) in the same run (../shared/bench/peers/bench-kamailio-proxy.sh
# cps: UAC -> Kamailio -> UAS, 1 s, BYE).
#
# Shenggu's side, all real:
#   - one tenant with a trunk from 127.0.0.1 (callers need no credentials), a
#     number routed to queue "q" (longest idle, wrap-up 0, ring timeout
#     RING_S), AGENTS users with the agent role;
#   - every agent REGISTERs with digest (bench/sipp/reg_auth_inf.xml) from the
#     one port AGENT_PORT, then dials *20 to log in (bench/sipp/
#     acd_login_inf.xml: the platform answers, says "logged in" with TTS,
#     hangs up);
#   - one SIPp UAS on AGENT_PORT is every agent's phone (bench/sipp/
#     acd_agent_uas.xml: 180, 200 20 ms later, 1 s of talk, BYE): the
#     platform sends each offer to the address its binding came from;
#   - SIPp callers at the step's rate (bench/sipp/acd_caller.xml): INVITE,
#     the queue answers at once (music on hold), the ACD offers the call,
#     the agent answers, the call is bridged (media anchored), the agent
#     hangs up; a call succeeds when the caller got the relayed BYE.
#
# Usage: bench/bench_acd_calls.sh [BUILD_DIR]      (default build-bench)
# Environment (defaults in brackets):
#   PIN=1          server on core 0, both SIPp on core 1 (as the peers harness)
#   RATES="..."    call rates stepped up until one does not hold; the same list
#                  is given to the Kamailio harness
#   STEP_S=5       seconds of calls per step (calls per step = rate * STEP_S)
#   REPEATS=1      repeats of the whole series, for both servers (median)
#   AGENTS=6000    agents logged in (enough for RATE * ~1.1 s busy each)
#   RING_S=5       the queue's ring timeout
#   REG_RATE=1000 LOGIN_RATE=300   rates of the registrations and *20 logins
#   LOG_LEVEL=info the server's log level (its default)
#   DATA_DIR=      the server's data folder [$BENCH_RUN/data: this disk]; e.g.
#                  DATA_DIR=/dev/shm/shenggu-acd-calls to take the disk's
#                  fsync latency out (a diagnostic, not the figure to record)
#   PEER=1         run the Kamailio series (0: skip)
#   PROFILE=0      1: after the series, one step under `perf record -g` and
#                  one under `perf trace -s -e fdatasync,fsync` (which thread
#                  waits for the disk, how long) at PROFILE_RATE [the highest
#                  rate that held]
#   PORT=5090 CALLER_PORT=5071 AGENT_PORT=5072 LOGIN_PORT=5073
#   BENCH_RUN=/tmp/shenggu-bench-acd-calls   scratch folder (outside the repo)
#
# A step holds when fewer than 1% of the calls failed or did not finish,
# SIPp created calls at >= 95% of the target rate while it was creating, and
# retransmissions stayed under 1% of the calls (the peers harness's rule).
# Every loop is bounded; every process started here is stopped by its PID.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${1:-build-bench}
BIN="$ROOT/$BUILD/shenggu"
SIPPD="$ROOT/bench/sipp"
PEERS=../shared/bench/peers
PIN=${PIN:-1}
RATES=${RATES:-"100 200 300 400 600 800 1000 1200 1500 2000 2500 3000 3500 4000 4500 5000"}
STEP_S=${STEP_S:-5}
REPEATS=${REPEATS:-1}
AGENTS=${AGENTS:-6000}
RING_S=${RING_S:-5}
REG_RATE=${REG_RATE:-1000}
LOGIN_RATE=${LOGIN_RATE:-300}
LOG_LEVEL=${LOG_LEVEL:-info}
PEER=${PEER:-1}
PROFILE=${PROFILE:-0}
PROFILE_RATE=${PROFILE_RATE:-}
PORT=${PORT:-5090}
CALLER_PORT=${CALLER_PORT:-5071}
AGENT_PORT=${AGENT_PORT:-5072}
LOGIN_PORT=${LOGIN_PORT:-5073}
RUN=${BENCH_RUN:-/tmp/shenggu-bench-acd-calls}
DATA_DIR=${DATA_DIR:-$RUN/data}
CLK_TCK=$(getconf CLK_TCK)

[[ -x "$BIN" ]] || { echo "bench_acd_calls: $BIN not built (ninja -C $BUILD)" >&2; exit 1; }
for c in sipp taskset python3 /usr/bin/time; do
    command -v "$c" >/dev/null || { echo "bench_acd_calls: $c missing (apt-get install sip-tester util-linux python3 time)" >&2; exit 1; }
done
# Four RTP sockets per bridged call, two per login call: raise the limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null
rm -rf "$RUN"
mkdir -p "$RUN"
# Run a copy: a rebuild during the run must not change the binary under us
# (nor leave perf without its symbols).
cp "$BIN" "$RUN/shenggu" || exit 1
REV="$(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- src 2>/dev/null || echo +changes)"
BIN="$RUN/shenggu"

SPID="" UPID="" APID=""
stop_pid() { # SIGTERM by PID, SIGKILL after 5 s
    [[ -n "$1" ]] || return 0
    kill -TERM "$1" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}
stop_all() { stop_pid "$UPID"; UPID=""; stop_pid "$SPID"; SPID=""; }
trap stop_all EXIT
trap 'stop_all; exit 130' INT TERM

SPIN=() CPIN=()
if [[ "$PIN" == 1 ]]; then SPIN=(taskset -c 0); CPIN=(taskset -c 1); fi

# The provisioning document and the agents' injection file (USER;DOMAIN;PASSWORD).
python3 - "$AGENTS" "$RING_S" "$RUN" <<'EOF'
import json, sys
n, ring, run = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
users, csv = [], ["SEQUENTIAL"]
for i in range(n):
    uid, pw = "a%05d" % i, "pw-%05d" % i
    users.append({"id": uid, "password": pw, "roles": ["agent"]})
    csv.append("%s;bench.example;%s" % (uid, pw))
doc = {"version": 1, "tenants": [{
    "id": "bench", "name": "Bench", "domain": "bench.example",
    "trunks": [{"id": "carrier", "from": ["127.0.0.1"]}],
    "numbers": [{"number": "100", "route": {"queue": "q"}}],
    "users": users,
    "queues": [{"id": "q", "strategy": "longest-idle", "wrapup_s": 0, "ring_timeout_s": ring}]}]}
json.dump(doc, open(run + "/doc.json", "w"))
open(run + "/agents.csv", "w").write("\n".join(csv) + "\n")
EOF

cpu_ticks() { # utime+stime of PID (all its threads) in clock ticks
    awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$1/stat" 2>/dev/null || echo 0
}
rss_kib() { awk '$1 == "VmRSS:" {print $2}' "/proc/$1/status" 2>/dev/null; }
# sock_drops PORT... -> packets the kernel dropped on the UDP sockets bound to
# these ports (127.0.0.1), from `ss -m` (skmem d): the SIP sockets only, where
# UdpRcvbufErrors also counts the RTP that SIPp never reads.
sock_drops() {
    local p t=0 d
    for p in "$@"; do
        d=$(ss -Huanm "sport = :$p" 2>/dev/null | grep -o ',d[0-9]*)' | tr -dc '0-9\n' | awk '{s += $1} END {print s + 0}')
        t=$((t + d))
    done
    echo "$t"
}
udp_rcvbuf_errors() {
    awk '$1 == "Udp:" { if (!h) { for (i = 2; i <= NF; i++) col[$i] = i; h = 1 } else print $col["RcvbufErrors"] }' /proc/net/snmp
}

# stat_summary FILE N -> "created ok failed retrans achieved call_ms" from a
# SIPp -trace_stat file (-fd 1). achieved = calls created per second between
# the first row and the last row before all N calls were created (the tail of
# the last calls does not lower it); call_ms = mean INVITE-to-BYE time.
stat_summary() {
    awk -F';' -v n="$2" '
        NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        { k = split($col["CurrentTime"], ct, /[ \t]/); ts = ct[k] + 0; c = $col["TotalCallCreated"] + 0
          if (NR == 2) { t0 = ts; c0 = c }
          else if (c < n) { t1 = ts; c1 = c }
          cr = c; ok = $col["SuccessfulCall(C)"]; fa = $col["FailedCall(C)"]; re = $col["Retransmissions(C)"]
          rt = $col["ResponseTime1(C)"] }
        END { a = (t1 > t0) ? sprintf("%.0f", (c1 - c0) / (t1 - t0)) : "NA"
              m = split(rt, p, ":"); ms = (m == 4) ? sprintf("%.0f", ((p[1] * 60 + p[2]) * 60 + p[3]) * 1000 + p[4] / 1000) : "NA"
              print cr + 0, ok + 0, fa + 0, re + 0, a, ms }' "$1"
}

# sipp_run NAME RATE COUNT SCENARIO PORT MEDIA_PORT TIMEOUT_S [ARGS...]: one
# SIPp client run against our server, bounded; stats in $RUN/NAME.csv, its
# user, system and wall seconds in $RUN/NAME.time.
sipp_run() {
    local name=$1 r=$2 n=$3 sf=$4 p=$5 mp=$6 to=$7
    shift 7
    /usr/bin/time -f '%U %S %e' -o "$RUN/$name.time" timeout $((to + 10)) "${CPIN[@]}" sipp 127.0.0.1:"$PORT" -sf "$sf" -i 127.0.0.1 -p "$p" -mp "$mp" \
        -r "$r" -rp 1000 -m "$n" -timeout "${to}s" -buff_size 4194304 \
        -trace_stat -stf "$RUN/$name.csv" -fd 1 -trace_err -error_file "$RUN/$name.err" -nostdin "$@" \
        >/dev/null 2>"$RUN/$name.stderr" </dev/null
}

# run_step RATE CALLS -> one table row; sets V (ok|FAIL), OKC, SCPU
run_step() {
    local R=$1 N=$2 to c0 c1 a0 a1 u0 u1 d0 d1 su ss wall cr ok fa re eff ms sc ac w0 w1 e0
    to=$((N / R + 60))
    c0=$(cpu_ticks "$SPID"); a0=$(cpu_ticks "$APID"); u0=$(udp_rcvbuf_errors); d0=$(sock_drops "$PORT" "$AGENT_PORT")
    w0=$(grep -cE ' (warn|error) ' "$RUN/server.log")
    e0=$(stat -c %s "$RUN/agents.err" 2>/dev/null || echo 0)
    rm -f "$RUN/calls.csv"
    sipp_run calls "$R" "$N" "$SIPPD/acd_caller.xml" "$CALLER_PORT" 16000 "$to" \
        -key number 100 -recv_timeout 30000
    c1=$(cpu_ticks "$SPID"); a1=$(cpu_ticks "$APID"); u1=$(udp_rcvbuf_errors); d1=$(sock_drops "$PORT" "$AGENT_PORT")
    w1=$(grep -cE ' (warn|error) ' "$RUN/server.log")
    read -r su ss wall < <(tail -1 "$RUN/calls.time")
    read -r cr ok fa re eff ms < <(stat_summary "$RUN/calls.csv" "$N")
    [[ "$eff" == NA ]] && eff=$(awk -v n="$ok" -v w="$wall" 'BEGIN{printf "%.0f", n / w}')
    SCPU=$(awk -v d=$((c1 - c0)) -v t="$CLK_TCK" -v w="$wall" 'BEGIN{printf "%.0f", d / t / w * 100}')
    ac=$(awk -v d=$((a1 - a0)) -v t="$CLK_TCK" -v w="$wall" 'BEGIN{printf "%.0f", d / t / w * 100}')
    sc=$(awk -v u="$su" -v s="$ss" -v w="$wall" 'BEGIN{printf "%.0f", (u + s) / w * 100}')
    V=$(awk -v r="$R" -v c="$N" -v ok="$ok" -v e="$eff" -v re="$re" \
        'BEGIN{print ((c - ok) / c < 0.01 && e >= 0.95 * r && re / c < 0.01) ? "ok" : "FAIL"}')
    OKC=$ok
    printf "%-6s %6s %7s %7s %6s %7s %6s %8s %7s %8s %8s %8s %9s %9s %6s %s\n" \
        "$LBL" "$R" "$cr" "$ok" "$fa" "$re" "$wall" "$eff" "$ms" "$SCPU" "$sc" "$ac" $((d1 - d0)) $((u1 - u0)) $((w1 - w0)) "$V"
    if [[ "$V" != ok ]]; then
        { cat "$RUN/calls.err"; tail -c +$((e0 + 1)) "$RUN/agents.err"; } 2>/dev/null |
            grep -oE "(receive timeout on message [a-z_]+:[0-9]+|while expecting '[^']+' \(index [0-9]+\), received '[^ ]+)" |
            sort | uniq -c | sort -rn | head -4 | sed 's/^/#   sipp: /'
        grep -E ' (warn|error) ' "$RUN/server.log" | tail -n +$((w0 + 1)) | sed -E 's/uuid=[0-9a-f]+/uuid=.../' |
            cut -c25- | sort | uniq -c | sort -rn | head -3 | sed 's/^/#   server: /'
    fi
}

median() { sort -g | awk '{a[NR] = $1} END {if (!NR) print "NA"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# start_server: provision, listen, register and log in every agent, start
# their phones (SPID, UPID). Returns non-zero with the reason on stderr.
start_server() {
    local rdir="$DATA_DIR" t0 regs logins
    rm -rf "$rdir"
    t0=$(date +%s.%N)
    "${SPIN[@]}" "$BIN" serve --sip 127.0.0.1:"$PORT" --data "$rdir" --provision "$RUN/doc.json" \
        --digest-order md5-first --rtp-ports 20000-39999 --log-level "$LOG_LEVEL" 2>"$RUN/server.log" &
    SPID=$!
    for _ in $(seq 1 600); do
        grep -q "listening addr=127.0.0.1:$PORT" "$RUN/server.log" 2>/dev/null && break
        kill -0 "$SPID" 2>/dev/null || { cat "$RUN/server.log" >&2; SPID=""; return 1; }
        sleep 0.1
    done
    grep -q "listening addr=127.0.0.1:$PORT" "$RUN/server.log" || { echo "server did not listen" >&2; return 1; }
    PROV_S=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}')
    # Registrations from the phones' port, then logins from another port.
    t0=$(date +%s.%N)
    sipp_run reg "$REG_RATE" "$AGENTS" "$SIPPD/reg_auth_inf.xml" "$AGENT_PORT" 16100 $((AGENTS / REG_RATE + 60)) \
        -inf "$RUN/agents.csv" -default_behaviors none -recv_timeout 4000
    regs=$(stat_summary "$RUN/reg.csv" "$AGENTS" | awk '{print $2}')
    sipp_run login "$LOGIN_RATE" "$AGENTS" "$SIPPD/acd_login_inf.xml" "$LOGIN_PORT" 16200 $((AGENTS / LOGIN_RATE + 60)) \
        -inf "$RUN/agents.csv" -recv_timeout 10000
    logins=$("$BIN" queue-log --tenant bench --data "$rdir" 2>/dev/null | grep -c '|AGENTLOGIN|')
    LOGIN_S=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}')
    echo "# shenggu: $AGENTS agents provisioned and listening in ${PROV_S}s; registered $regs, logged in $logins (AGENTLOGIN lines) in ${LOGIN_S}s"
    if ((regs < AGENTS || logins < AGENTS)); then
        echo "bench_acd_calls: not every agent registered and logged in ($regs, $logins of $AGENTS): see $RUN/server.log, $RUN/reg.err, $RUN/login.err" >&2
        return 1
    fi
    timeout 7200 "${CPIN[@]}" sipp 127.0.0.1:"$PORT" -sf "$SIPPD/acd_agent_uas.xml" -i 127.0.0.1 -p "$AGENT_PORT" \
        -mp 16100 -buff_size 4194304 -trace_stat -stf "$RUN/agents.csv.stat" -fd 1 \
        -trace_err -error_file "$RUN/agents.err" -nostdin >/dev/null 2>"$RUN/agents.stderr" </dev/null &
    UPID=$!
    sleep 1
    kill -0 "$UPID" 2>/dev/null || { echo "agents' SIPp did not start: $(cat "$RUN/agents.stderr")" >&2; UPID=""; return 1; }
    APID=$(ps -o pid= --ppid "$UPID" | awk 'NR == 1 {print $1}') # sipp under timeout: its CPU
}

echo "# bench_acd_calls: $(uname -m), $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), pin=$PIN, build $BUILD ($REV), data $DATA_DIR ($(df --output=fstype "$(dirname "$DATA_DIR")" 2>/dev/null | tail -1)), $(sipp -v 2>/dev/null | awk '/SIPp v/ {print $2; exit}'), log-level $LOG_LEVEL, $(date -u +%Y-%m-%dT%H:%MZ), load $(cut -d' ' -f1-3 /proc/loadavg)"

# --- 1. Shenggu ----------------------------------------------------------
SG_MAX=() SG_CPU=()
declare -A CPU_AT
for ((REP = 1; REP <= REPEATS; REP++)); do
    start_server || exit 1
    RSS0=$(rss_kib "$SPID")
    [[ $REP == 1 ]] && echo "# step ${STEP_S}s; server core 0, SIPp core 1; call_ms = mean INVITE-to-BYE at the caller (1 s talk + queue + offer); server% = all its threads; sip_drops = packets dropped on the server's and the agents' SIP sockets; rcvbuf_err = UdpRcvbufErrors (includes RTP to SIPp's unread media sockets); warn = server warn/error lines"
    printf "%-6s %6s %7s %7s %6s %7s %6s %8s %7s %8s %8s %8s %9s %9s %6s %s\n" \
        rep target created success failed retrans wall_s achieved call_ms server% caller% agents% sip_drops rcvbuf_err warn verdict
    LBL=$REP
    best=0
    for R in $RATES; do
        if ((R * 13 / 10 > AGENTS)); then
            echo "# rate $R needs more than AGENTS=$AGENTS agents (rate x ~1.3 s busy): stopping here"
            break
        fi
        run_step "$R" $((R * STEP_S))
        [[ "$V" == ok ]] || break
        best=$R
        CPU_AT[$REP,$R]=$SCPU
        sleep 2 # the last calls' BYEs
    done
    echo "# shenggu VmRSS: ${RSS0} KiB with the agents logged in, $(rss_kib "$SPID") KiB after the series"
    SG_MAX+=("$best")
    if [[ "$PROFILE" == 1 && $REP == "$REPEATS" ]]; then
        PR=${PROFILE_RATE:-$best}
        [[ "$PR" == 0 ]] && PR=$(echo "$RATES" | awk '{print $1}')
        if command -v perf >/dev/null; then
            LBL=perf
            perf record -g -o "$RUN/perf.data" -p "$SPID" -- sleep $((STEP_S + 2)) >/dev/null 2>&1 &
            PP=$!
            sleep 0.5
            run_step "$PR" $((PR * STEP_S))
            wait "$PP"
            echo "# perf record -g -p SERVER during a ${PR}/s step; top symbols (self, all threads):"
            perf report -i "$RUN/perf.data" --no-children --percent-limit 1 --stdio 2>/dev/null |
                grep -E '^ +[0-9.]+%' | head -30 | sed 's/^/#   /'
            echo "# by thread (pid:tid; tid = pid is the event loop):"
            perf report -i "$RUN/perf.data" --no-children --sort pid --stdio 2>/dev/null |
                grep -E '^ +[0-9.]+%' | head -8 | sed 's/^/#   /'
        else
            echo "# perf not installed: no profile"
        fi
        if command -v perf >/dev/null; then
            # Who waits for the disk: fdatasync per thread (perf trace: a
            # tracepoint, no ptrace stop on every system call).
            LBL=fsync
            perf trace -s -p "$SPID" -e fdatasync,fsync -o "$RUN/fsync.txt" -- sleep $((STEP_S + 2)) >/dev/null 2>&1 &
            PP=$!
            sleep 0.5
            run_step "$PR" $((PR * STEP_S))
            wait "$PP"
            echo "# perf trace -s -e fdatasync,fsync -p SERVER during that step ($((PR * STEP_S)) calls); thread $SPID is the event loop:"
            grep -E '^ +(shenggu|[a-z]+ \(|fdatasync|fsync)|\(msec\)' "$RUN/fsync.txt" | grep -v '^ *$' | sed 's/^/#   /'
        fi
    fi
    stop_all
    echo "# agents' SIPp: $(stat_summary "$RUN/agents.csv.stat" 0 | awk '{printf "%s offers, %s completed, %s failed", $1, $2, $3}')"
done
SG_MED=$(printf "%s\n" "${SG_MAX[@]}" | median)
echo "SUMMARY shenggu-acd-calls pin=$PIN agents=$AGENTS max_sustained_per_repeat=[${SG_MAX[*]}] median_max=${SG_MED}/s"

# --- 2. Kamailio stateful proxy, same call shape and rates -----------------
K_MED=NA
if [[ "$PEER" == 1 ]]; then
    echo "# kamailio: PIN=$PIN REPEATS=$REPEATS STEP_S=$STEP_S RATES=\"$RATES\" $PEERS/bench-kamailio-proxy.sh cps"
    PIN=$PIN REPEATS=$REPEATS STEP_S=$STEP_S RATES="$RATES" BENCH_RUN="$RUN/peer" \
        timeout 3600 "$PEERS/bench-kamailio-proxy.sh" cps 2>&1 | tee "$RUN/kamailio.out"
    K_MED=$(awk '/^SUMMARY kamailio-proxy-cps/ { for (i = 1; i <= NF; i++) if ($i ~ /^median_max=/) { sub(/median_max=/, "", $i); print $i } }' "$RUN/kamailio.out")
    [[ -n "$K_MED" ]] || K_MED=NA
fi

# CPU of both at the highest rate both held (first repeat).
CMP=""
if [[ "$K_MED" != NA ]]; then
    CMP=$(awk -v sg="$(for k in "${!CPU_AT[@]}"; do [[ $k == 1,* ]] && echo "${k#1,}=${CPU_AT[$k]}"; done | tr '\n' ' ')" '
        BEGIN { n = split(sg, a, " "); for (i = 1; i <= n; i++) { split(a[i], kv, "="); s[kv[1]] = kv[2] } }
        $1 == "1" && $NF == "ok" && ($2 in s) && $2 + 0 > best { best = $2 + 0; kc = $9 }
        END { if (best) printf " cpu_at_%d/s: shenggu=%s%% kamailio=%s%%", best, s[best], kc }' "$RUN/kamailio.out")
fi
RATIO=$(awk -v a="$SG_MED" -v b="$K_MED" 'BEGIN{ if (b + 0 > 0 && a != "NA") printf "%.3f", a / b; else print "NA" }')
echo "SUMMARY acd-calls-e2e shenggu=${SG_MED}/s kamailio-proxy=${K_MED}/s ratio=${RATIO} target>=0.5 (step ${STEP_S}s, repeats $REPEATS, pin=$PIN, agents $AGENTS)${CMP}"
