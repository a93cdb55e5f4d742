#!/usr/bin/env bash
# API requests per second: a real-time metrics read of `shenggu serve --http`
# (GET /api/v1/tenants/acme/metrics/queues/loans with a supervisor's bearer
# token: routing, the token check, the access check, the ACD's live figures
# as JSON) against nginx serving a static file of the very same bytes, in
# the same run, on the same core, driven by the same wrk.
#
# Each server in turn runs on core 0 (nginx with one worker, the
# Shenggu node with its one event loop); wrk runs on core 1 with keep-alive
# connections. Loopback only; every run bounded by DURATION.
#
# Usage: bench/bench_api.sh [BUILD_DIR]            (default build-bench)
# Environment (defaults in brackets):
#   DURATION=10  seconds per run     CONNS=32  wrk connections
#   REPEATS=3    runs per server (the median is reported)
#   PIN=1        servers on core 0, wrk on core 1
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build-bench}"
duration="${DURATION:-10}"
conns="${CONNS:-32}"
repeats="${REPEATS:-3}"
pin_srv=() pin_cli=()
if [[ "${PIN:-1}" == 1 ]] && command -v taskset >/dev/null; then
    pin_srv=(taskset -c 0) pin_cli=(taskset -c 1)
fi
for tool in wrk nginx curl; do
    command -v "$tool" >/dev/null || { echo "bench_api: $tool missing (scripts/deps.sh)" >&2; exit 1; }
done
if [[ ! -f "$build/build.ninja" ]]; then
    meson setup "$build" --buildtype=release -Db_ndebug=true >/dev/null
fi
ninja -C "$build" shenggu >/dev/null
bin="$(pwd)/$build/shenggu"

dir=$(mktemp -d)
spid="" npid=""
cleanup() {
    [[ -n "$spid" ]] && kill "$spid" 2>/dev/null
    [[ -n "$npid" ]] && kill "$npid" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
sport=$(port) hport=$(port) nport=$(port)

cat >"$dir/doc.json" <<EOF
{ "tenants": [{ "id": "acme", "name": "ACME", "domain": "acme.example",
    "users": [
      { "id": "sup", "password": "bench-super-pass", "roles": ["supervisor"] },
      { "id": "1001", "password": "bench-agent-pass", "roles": ["agent"], "skills": { "loans": 5 } },
      { "id": "1002", "password": "bench-agent-pass", "roles": ["agent"], "skills": { "loans": 5 } }
    ],
    "queues": [{ "id": "loans", "strategy": "longest-idle", "skills": { "loans": 1 } }] }] }
EOF
"${pin_srv[@]}" "$bin" serve --sip "127.0.0.1:$sport" --http "127.0.0.1:$hport" --data "$dir/var" \
    --provision "$dir/doc.json" --log-level warn 2>"$dir/serve.log" &
spid=$!
base="http://127.0.0.1:$hport"
for _ in $(seq 1 100); do curl -s --max-time 1 "$base/api/v1/health" >/dev/null && break; sleep 0.1; done
token=$(curl -s --max-time 10 -X POST "$base/api/v1/login" \
    --data-binary '{"tenant":"acme","user":"sup","password":"bench-super-pass"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
# Agents logged in, so the figures are not all zeros.
for a in 1001 1002; do
    curl -s --max-time 10 -o /dev/null -X PUT -H "Authorization: Bearer $token" \
        --data-binary '{"state":"ready"}' "$base/api/v1/tenants/acme/agents/$a/state"
done
path=/api/v1/tenants/acme/metrics/queues/loans
mkdir -p "$dir/www"
curl -s --max-time 10 -H "Authorization: Bearer $token" -o "$dir/www/metrics.json" "$base$path"
size=$(stat -c %s "$dir/www/metrics.json")
# nginx's worker drops root for its own user: let it read the file.
chmod 755 "$dir" "$dir/www" && chmod 644 "$dir/www/metrics.json"

cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 10000000;
    server {
        listen 127.0.0.1:$nport;
        location / { root $dir/www; default_type application/json; }
    }
}
EOF

# rps URL [HEADER]: requests per second of one wrk run
rps() {
    local args=(-t1 -c"$conns" -d"${duration}s" --latency)
    [[ $# -ge 2 ]] && args+=(-H "$2")
    "${pin_cli[@]}" wrk "${args[@]}" "$1" >"$dir/wrk.out"
    if grep -q 'Non-2xx' "$dir/wrk.out"; then
        echo "bench_api: non-2xx answers from $1: $(curl -s --max-time 5 ${2:+-H "$2"} "$1" | head -c 300)" >&2
        cat "$dir/wrk.out" >&2
        exit 1
    fi
    awk '/^Requests\/sec:/ { printf "%d", $2 }' "$dir/wrk.out"
}
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

s_runs=() n_runs=()
for _ in $(seq 1 "$repeats"); do
    s_runs+=("$(rps "$base$path" "Authorization: Bearer $token")")
done
s_p99=$(awk '/ 99%/ { print $2 }' "$dir/wrk.out")
kill "$spid"; wait "$spid" 2>/dev/null || true; spid=""

"${pin_srv[@]}" nginx -c "$dir/nginx.conf" -p "$dir" &
npid=$!
for _ in $(seq 1 50); do curl -s --max-time 1 -o /dev/null "http://127.0.0.1:$nport/metrics.json" && break; sleep 0.1; done
for _ in $(seq 1 "$repeats"); do
    n_runs+=("$(rps "http://127.0.0.1:$nport/metrics.json")")
done
n_p99=$(awk '/ 99%/ { print $2 }' "$dir/wrk.out")
kill "$npid"; wait "$npid" 2>/dev/null || true; npid=""

s=$(median "${s_runs[@]}") n=$(median "${n_runs[@]}")
echo "bench_api: body ${size} bytes, ${conns} connections, ${duration} s x ${repeats}, ${pin_srv[*]:-unpinned}"
echo "bench_api: shenggu ${s_runs[*]} req/s (median $s, last p99 $s_p99)"
echo "bench_api: nginx   ${n_runs[*]} req/s (median $n, last p99 $n_p99)"
awk -v s="$s" -v n="$n" 'BEGIN { printf "bench_api: ratio shenggu/nginx %.2f (target >= 0.50)\n", s / n }'
