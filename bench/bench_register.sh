#!/usr/bin/env bash
# Registrar benchmark: authenticated REGISTER rate (REGISTER, 401, REGISTER
# with digest, 200 = one call) of `shenggu serve` driven by SIPp on loopback,
# Kamailio doing the same work in the same run (../shared/bench/peers/
# bench-kamailio-register.sh pvauth), and the resident memory of 50,000
# registered agents over 100 tenants.
#
# Usage: bench/bench_register.sh [BUILD_DIR]      (default build-bench)
# Environment (defaults in brackets):
#   PIN=1          server on core 0, SIPp on core 1 (as the peers harness)
#   RATES="..."    target rates stepped up until one does not hold; the same
#                  list is given to the Kamailio harness
#   STEP_S=5       seconds per step (calls per step = rate * STEP_S)
#   REPEATS=1      repeats of the whole series, for both servers (median)
#   TENANTS=100 USERS=100     users of the rate test (TENANTS*USERS)
#   MEM_TENANTS=100 MEM_USERS=500  the memory test (50,000 agents)
#   SUSTAIN_S=40   then hold the highest rate that held for this long (longer
#                  than Timer J, 32 s, so finished transactions pile up as in
#                  production); on failure the next lower held rate, at most 3 tries
#   MEM_RATE=      rate for registering them [highest rate sustained, at most 1000]
#   PEER=1         run the Kamailio series (0: skip)
#   MEM=1          run the memory test (0: skip)
#   PROFILE=0      1: after the series, one step under `perf record -g` and one
#                  under `strace -c` at PROFILE_RATE [highest that held]
#   PORT=5090 SIPP_PORT=5071   our server's and SIPp's UDP ports
#   BENCH_RUN=/tmp/shenggu-bench-register   scratch folder (outside the repo)
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
SCEN="$ROOT/bench/sipp/reg_auth_inf.xml"
PEERS=../shared/bench/peers
PIN=${PIN:-1}
RATES=${RATES:-"1000 2000 3000 4000 6000 8000 10000 12000 14000 16000 18000 20000 22000 24000 26000 28000 30000 32000 34000 36000"}
STEP_S=${STEP_S:-5}
REPEATS=${REPEATS:-1}
TENANTS=${TENANTS:-100}
USERS=${USERS:-100}
MEM_TENANTS=${MEM_TENANTS:-100}
MEM_USERS=${MEM_USERS:-500}
MEM_RATE=${MEM_RATE:-}
SUSTAIN_S=${SUSTAIN_S:-40}
PEER=${PEER:-1}
MEM=${MEM:-1}
PROFILE=${PROFILE:-0}
PROFILE_RATE=${PROFILE_RATE:-}
PORT=${PORT:-5090}
SIPP_PORT=${SIPP_PORT:-5071}
RUN=${BENCH_RUN:-/tmp/shenggu-bench-register}
CLK_TCK=$(getconf CLK_TCK)

[[ -x "$BIN" ]] || { echo "bench_register: $BIN not built" >&2; exit 1; }
for c in sipp taskset python3 /usr/bin/time; do
    command -v "$c" >/dev/null || { echo "bench_register: $c missing (apt-get install sip-tester util-linux python3 time)" >&2; exit 1; }
done
rm -rf "$RUN"
mkdir -p "$RUN"

SPID=""
stop_server() { # SIGTERM our server by PID, SIGKILL after 5 s
    [[ -n "$SPID" ]] || return 0
    kill -TERM "$SPID" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SPID" 2>/dev/null
    wait "$SPID" 2>/dev/null
    SPID=""
}
trap stop_server EXIT
trap 'stop_server; exit 130' INT TERM

SPIN=() CPIN=()
if [[ "$PIN" == 1 ]]; then SPIN=(taskset -c 0); CPIN=(taskset -c 1); fi

# gen_users TENANTS USERS PREFIX -> PREFIX.json (provisioning) and PREFIX.csv
# (SIPp injection file USER;DOMAIN;PASSWORD, tenant by tenant).
gen_users() {
    python3 - "$1" "$2" "$3" <<'EOF'
import json, sys
tenants, users, prefix = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
doc, csv = [], ["SEQUENTIAL"]
for t in range(tenants):
    domain = "t%03d.bench.example" % t
    us = []
    for u in range(users):
        uid, pw = "a%05d" % (10000 + u), "pw-%03d-%05d" % (t, u)
        us.append({"id": uid, "password": pw, "roles": ["agent"]})
        csv.append("%s;%s;%s" % (uid, domain, pw))
    doc.append({"id": "t%03d" % t, "name": "Bench %d" % t, "domain": domain, "users": us})
json.dump({"version": 1, "tenants": doc}, open(prefix + ".json", "w"))
open(prefix + ".csv", "w").write("\n".join(csv) + "\n")
EOF
}

# start_server DATA DOC -> SPID, and PROV_S: seconds to provision and listen
start_server() {
    local log="$1.log" t0 t1
    t0=$(date +%s.%N)
    "${SPIN[@]}" "$BIN" serve --sip 127.0.0.1:"$PORT" --data "$1" --provision "$2" \
        --digest-order md5-first --log-level info 2>"$log" &
    SPID=$!
    for _ in $(seq 1 600); do
        grep -q "listening addr=127.0.0.1:$PORT" "$log" 2>/dev/null && break
        kill -0 "$SPID" 2>/dev/null || { cat "$log" >&2; SPID=""; return 1; }
        sleep 0.1
    done
    grep -q "listening addr=127.0.0.1:$PORT" "$log" || { cat "$log" >&2; return 1; }
    t1=$(date +%s.%N)
    PROV_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')
}

cpu_ticks() { # utime+stime of PID in clock ticks
    awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$1/stat" 2>/dev/null || echo 0
}
rss_kib() { awk '$1 == "VmRSS:" {print $2}' "/proc/$1/status"; }
udp_rcvbuf_errors() {
    awk '$1 == "Udp:" { if (!h) { for (i = 2; i <= NF; i++) col[$i] = i; h = 1 } else print $col["RcvbufErrors"] }' /proc/net/snmp
}

# stat_summary FILE N -> "created ok failed retrans achieved" from a SIPp
# -trace_stat file (-fd 1). achieved = calls created per second between the
# first row and the last row before all N calls were created, so the tail of
# the last calls does not lower it.
stat_summary() {
    awk -F';' -v n="$2" '
        NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        { k = split($col["CurrentTime"], ct, /[ \t]/); ts = ct[k] + 0; c = $col["TotalCallCreated"] + 0
          if (NR == 2) { t0 = ts; c0 = c }
          else if (c < n) { t1 = ts; c1 = c }
          cr = c; ok = $col["SuccessfulCall(C)"]; fa = $col["FailedCall(C)"]; re = $col["Retransmissions(C)"] }
        END { a = (t1 > t0) ? sprintf("%.0f", (c1 - c0) / (t1 - t0)) : "NA"
              print cr + 0, ok + 0, fa + 0, re + 0, a }' "$1"
}

# run_step RATE CALLS CSV -> one table row; sets V (ok|FAIL) and OKC (successes)
run_step() {
    local R=$1 N=$2 csv=$3 to c0 c1 u0 u1 su ss wall cr ok fa re eff sc kc
    to=$((N / R * 3 + 20))
    c0=$(cpu_ticks "$SPID"); u0=$(udp_rcvbuf_errors)
    /usr/bin/time -f '%U %S %e' -o "$RUN/time.txt" timeout $((to + 10)) "${CPIN[@]}" \
        sipp 127.0.0.1:"$PORT" -sf "$SCEN" -inf "$csv" -i 127.0.0.1 -p "$SIPP_PORT" \
        -default_behaviors none -r "$R" -rp 1000 -m "$N" -timeout "${to}s" -recv_timeout 4000 \
        -buff_size 4194304 -trace_stat -stf "$RUN/stat.csv" -fd 1 -nostdin \
        >/dev/null 2>"$RUN/sipp.err" </dev/null
    c1=$(cpu_ticks "$SPID"); u1=$(udp_rcvbuf_errors)
    read -r su ss wall < <(tail -1 "$RUN/time.txt")
    read -r cr ok fa re eff < <(stat_summary "$RUN/stat.csv" "$N")
    rm -f "$RUN/stat.csv"
    [[ "$eff" == NA ]] && eff=$(awk -v n="$ok" -v w="$wall" 'BEGIN{printf "%.0f", n / w}')
    kc=$(awk -v d=$((c1 - c0)) -v t="$CLK_TCK" -v w="$wall" 'BEGIN{printf "%.0f", d / t / w * 100}')
    sc=$(awk -v u="$su" -v s="$ss" -v w="$wall" 'BEGIN{printf "%.0f", (u + s) / w * 100}')
    V=$(awk -v r="$R" -v c="$N" -v ok="$ok" -v e="$eff" -v re="$re" \
        'BEGIN{print ((c - ok) / c < 0.01 && e >= 0.95 * r && re / c < 0.01) ? "ok" : "FAIL"}')
    OKC=$ok
    printf "%-4s %7s %8s %8s %7s %7s %7s %9s %8s %9s %9s %s\n" \
        "$REP" "$R" "$cr" "$ok" "$fa" "$re" "$wall" "$eff" "$kc" "$sc" $((u1 - u0)) "$V"
}

median() { sort -g | awk '{a[NR] = $1} END {if (!NR) print "NA"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

echo "# bench_register: $(uname -m), $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), pin=$PIN, build $BUILD, $(sipp -v 2>/dev/null | awk '/SIPp v/ {print $2; exit}'), $(date -u +%Y-%m-%dT%H:%MZ)"

# --- 1. authenticated REGISTER rate, Shenggu ------------------------------
gen_users "$TENANTS" "$USERS" "$RUN/rate"
start_server "$RUN/rate-data" "$RUN/rate.json" || { echo "bench_register: server did not start" >&2; exit 1; }
echo "# shenggu: $((TENANTS * USERS)) users in $TENANTS tenants, provisioned and listening in ${PROV_S}s; $(grep -o 'provisioned file=[^ ]* .*' "$RUN/rate-data.log" | cut -d' ' -f3-)"
echo "# step ${STEP_S}s; server core 0, SIPp core 1; rcvbuf_err = UdpRcvbufErrors during the step"
printf "%-4s %7s %8s %8s %7s %7s %7s %9s %8s %9s %9s %s\n" rep target created success failed retrans wall_s achieved server% sipp_cpu% rcvbuf_err verdict
SG_MAX=()
for ((REP = 1; REP <= REPEATS; REP++)); do
    best=0
    for R in $RATES; do
        run_step "$R" $((R * STEP_S)) "$RUN/rate.csv"
        [[ "$V" == ok ]] || break
        best=$R
        sleep 1
    done
    SG_MAX+=("$best")
done
SG_MED=$(printf "%s\n" "${SG_MAX[@]}" | median)
echo "SUMMARY shenggu-register pin=$PIN users=$((TENANTS * USERS)) tenants=$TENANTS max_sustained_per_repeat=[${SG_MAX[*]}] median_max=${SG_MED}/s"

# Hold for SUSTAIN_S: a non-INVITE server transaction lingers 32 s (Timer J)
# after its answer, so a 5 s step does not reach the steady state.
SG_LONG=NA
if ((SUSTAIN_S > 0)) && [[ "$SG_MED" != 0 && "$SG_MED" != NA ]]; then
    stop_server
    start_server "$RUN/long-data" "$RUN/rate.json" || exit 1
    REP=hold
    SG_LONG=0
    tries=0
    for R in $(echo "$RATES" | tr ' ' '\n' | sort -rn); do
        awk -v r="$R" -v m="$SG_MED" 'BEGIN{exit !(r <= m)}' || continue
        ((tries++ < 3)) || break
        run_step "$R" $((R * SUSTAIN_S)) "$RUN/rate.csv"
        if [[ "$V" == ok ]]; then SG_LONG=$R; break; fi
        sleep 35 # let the last step's transactions expire
    done
    echo "SUMMARY shenggu-register-sustained hold=${SUSTAIN_S}s max_sustained=${SG_LONG}/s"
fi

if [[ "$PROFILE" == 1 ]]; then
    PR=${PROFILE_RATE:-$SG_MED}
    [[ "$PR" == 0 || "$PR" == NA ]] && PR=$(echo "$RATES" | awk '{print $1}')
    sleep 35 # Timer J: let the transactions of the hold expire
    REP=perf
    if command -v perf >/dev/null; then
        perf record -g -o "$RUN/perf.data" -p "$SPID" -- sleep $((STEP_S + 2)) >/dev/null 2>&1 &
        PP=$!
        sleep 0.5
        run_step "$PR" $((PR * STEP_S)) "$RUN/rate.csv"
        wait "$PP"
        perf report -i "$RUN/perf.data" --no-children --percent-limit 1.5 --stdio 2>/dev/null \
            | grep -E '^ +[0-9.]+%' | head -25 >"$RUN/perf.top"
        echo "# perf record -g -p SERVER during a ${PR}/s step; top symbols (self):"
        sed 's/^/#   /' "$RUN/perf.top"
    fi
    REP=strace
    if command -v strace >/dev/null; then
        strace -c -f -p "$SPID" -o "$RUN/strace.txt" &
        SP=$!
        sleep 0.5
        run_step "$PR" $((PR * STEP_S)) "$RUN/rate.csv"
        kill -INT "$SP" 2>/dev/null
        wait "$SP" 2>/dev/null
        echo "# strace -c -f -p SERVER during a ${PR}/s step ($((PR * STEP_S)) calls):"
        head -14 "$RUN/strace.txt" | sed 's/^/#   /'
    fi
fi
stop_server

# --- 2. the same work, Kamailio (peers harness, same rates and step) --------
K_MED=NA
if [[ "$PEER" == 1 ]]; then
    echo "# kamailio: PIN=$PIN REPEATS=$REPEATS STEP_S=$STEP_S RATES=\"$RATES\" $PEERS/bench-kamailio-register.sh pvauth"
    PIN=$PIN REPEATS=$REPEATS STEP_S=$STEP_S RATES="$RATES" BENCH_RUN="$RUN/peer" \
        timeout 3600 "$PEERS/bench-kamailio-register.sh" pvauth 2>&1 | tee "$RUN/kamailio.out"
    K_MED=$(awk '/^SUMMARY kamailio-register/ { for (i = 1; i <= NF; i++) if ($i ~ /^median_max=/) { sub(/median_max=/, "", $i); sub(/\/s$/, "", $i); print $i } }' "$RUN/kamailio.out")
    [[ -n "$K_MED" ]] || K_MED=NA
fi
RATIO=$(awk -v a="$SG_MED" -v b="$K_MED" 'BEGIN{ if (b + 0 > 0 && a != "NA") printf "%.3f", a / b; else print "NA" }')
RATIO_LONG=$(awk -v a="$SG_LONG" -v b="$K_MED" 'BEGIN{ if (b + 0 > 0 && a != "NA") printf "%.3f", a / b; else print "NA" }')
echo "SUMMARY register-auth shenggu=${SG_MED}/s kamailio=${K_MED}/s ratio=${RATIO} (step ${STEP_S}s, repeats $REPEATS, pin=$PIN); shenggu held ${SUSTAIN_S}s=${SG_LONG}/s ratio=${RATIO_LONG}"

# --- 3. memory of MEM_TENANTS*MEM_USERS registered agents -------------------
if [[ "$MEM" == 1 ]]; then
    M=$((MEM_TENANTS * MEM_USERS))
    MR=${MEM_RATE:-$SG_LONG}
    [[ "$MR" == 0 || "$MR" == NA ]] && MR=500
    ((MR > 1000)) && MR=1000
    gen_users "$MEM_TENANTS" "$MEM_USERS" "$RUN/mem"
    start_server "$RUN/mem-data" "$RUN/mem.json" || { echo "bench_register: server did not start" >&2; exit 1; }
    sleep 1
    RSS0=$(rss_kib "$SPID")
    echo "# memory: $M users in $MEM_TENANTS tenants, provisioned and listening in ${PROV_S}s, VmRSS before ${RSS0} KiB; registering each once at ${MR}/s"
    REP=mem
    printf "%-4s %7s %8s %8s %7s %7s %7s %9s %8s %9s %9s %s\n" rep target created success failed retrans wall_s achieved server% sipp_cpu% rcvbuf_err verdict
    run_step "$MR" "$M" "$RUN/mem.csv"
    sleep 1
    RSS1=$(rss_kib "$SPID")
    sleep 35 # Timer J: the finished transactions of the last 32 s go away
    RSS2=$(rss_kib "$SPID")
    STORED=NA
    command -v sqlite3 >/dev/null && STORED=$(sqlite3 "$RUN/mem-data/shenggu.db" "select count(*) from bindings" 2>/dev/null)
    GROWTH=$(awk -v a="$RSS0" -v b="$RSS1" 'BEGIN{printf "%.1f", (b - a) / 1024}')
    echo "SUMMARY register-memory agents=$M tenants=$MEM_TENANTS registered=$OKC stored_bindings=$STORED vmrss_before=${RSS0}KiB vmrss_after=${RSS1}KiB growth=${GROWTH}MiB vmrss_35s_later=${RSS2}KiB target=<100MiB"
    stop_server
fi
