#!/usr/bin/env bash
# Webhooks (docs/API.md "Webhooks") through the real `shenggu serve --http` on
# loopback, with a receiver of our own (Python http.server) that records
# every request and checks its HMAC-SHA256 signature with the secret:
#   - an agent's state set through the API reaches the tenant's webhook,
#     signed, with the event's type in the headers and the body;
#   - events a webhook did not choose, and other tenants' webhooks, get
#     nothing; a webhook changed through PUT of the tenant's document gets
#     the events it chose from then on;
#   - a receiver that answers 500 gets the delivery again, and 200 ends it;
#   - the receiver down while events happen, the server killed (kill -9),
#     the receiver up again, the server restarted: every delivery that was
#     in the outbox arrives, and the outbox empties;
#   - a clean stop (SIGTERM) exits 0 (no leak under ASan).
# Every wait is bounded; processes are stopped by pid.
#
# Usage: tests/system/test_webhooks.sh [BUILD_DIR]   (default build)
set -uo pipefail
cd "$(dirname "$0")/../.."
bin="$(pwd)/${1:-build}/shenggu"
. tests/system/lib.sh

tcp_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
hport=$(tcp_port)
rport=$(tcp_port)
while [[ "$hport" == "$port" ]]; do hport=$(tcp_port); done
while [[ "$rport" == "$hport" || "$rport" == "$port" ]]; do rport=$(tcp_port); done
base="http://127.0.0.1:$hport"
db="$tmp/var/shenggu.db"
secret_crm="crm-secret-0123456789"
secret_other="other-secret-0123456789"
secret_beta="beta-secret-0123456789"
# Webhooks go to loopback: never through a proxy of the environment.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

# --- the receiver: one JSON line per request in $tmp/got.jsonl
cat >"$tmp/receiver.py" <<'EOF'
import hashlib, hmac, http.server, json, os, sys, time

port, secrets, out, modefile = int(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
seen = set()

class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        ts = self.headers.get("X-Shenggu-Timestamp", "")
        sig = self.headers.get("X-Shenggu-Signature", "")
        key = secrets.get(self.path, "").encode()
        good = "sha256=" + hmac.new(key, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        fresh = ts.isdigit() and abs(time.time() - int(ts)) < 300
        mode = open(modefile).read().strip() if os.path.exists(modefile) else "200"
        did = self.headers.get("X-Shenggu-Delivery", "")
        status = 500 if mode == "500-once" and did not in seen else 200
        seen.add(did)
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        rec = {"path": self.path, "event": self.headers.get("X-Shenggu-Event"),
               "delivery": did, "sig_ok": hmac.compare_digest(good, sig) and fresh,
               "ctype": self.headers.get("Content-Type"), "status": status, "body": doc}
        with open(out, "a") as f:
            f.write(json.dumps(rec) + "\n")
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass

srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
open(out + ".ready", "w").close()
srv.serve_forever()
EOF
rpid=""
receiver_start() {
    rm -f "$tmp/got.jsonl.ready"
    python3 "$tmp/receiver.py" "$rport" \
        "{\"/hook\": \"$secret_crm\", \"/other\": \"$secret_other\", \"/beta\": \"$secret_beta\"}" \
        "$tmp/got.jsonl" "$tmp/mode" 2>"$tmp/receiver.log" &
    rpid=$!
    for _ in $(seq 1 50); do
        [[ -f "$tmp/got.jsonl.ready" ]] && return 0
        sleep 0.1
    done
    return 1
}
receiver_stop() { [[ -n "$rpid" ]] && kill "$rpid" 2>/dev/null && wait "$rpid" 2>/dev/null; rpid=""; }
trap 'receiver_stop; lib_cleanup' EXIT
touch "$tmp/got.jsonl"

# q PYTHON-EXPR: evaluate over the records (r: the list), print the result.
q() {
    python3 -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1]) if l.strip()]; print(eval(sys.argv[2]))' \
        "$tmp/got.jsonl" "$1"
}
# wait_for PYTHON-EXPR [SECONDS]: until the expression over the records is true.
wait_for() {
    local n=$(( ${2:-10} * 10 ))
    for _ in $(seq 1 "$n"); do
        [[ "$(q "$1")" == "True" ]] && return 0
        sleep 0.1
    done
    return 1
}
sql() { sqlite3 -cmd '.timeout 5000' "$db" "$1"; }

doc() { # doc OTHER_EVENTS: the provisioning document
    cat <<EOF
{ "operators": [{ "id": "ops", "password": "operator-pass-1" }],
  "tenants": [
  { "id": "acme", "name": "ACME", "domain": "acme.example",
    "users": [
      { "id": "1001", "password": "agent-pass-1001", "roles": ["agent"], "skills": { "loans": 5 } },
      { "id": "sup", "password": "super-pass-0001", "roles": ["supervisor"] }
    ],
    "queues": [{ "id": "loans", "strategy": "longest-idle", "skills": { "loans": 1 } }],
    "webhooks": [
      { "id": "crm", "url": "http://127.0.0.1:$rport/hook", "secret": "$secret_crm",
        "events": ["agent.state", "task.answered"] },
      { "id": "other", "url": "http://127.0.0.1:$rport/other", "secret": "$secret_other",
        "events": $1 }
    ] },
  { "id": "beta", "name": "Beta", "domain": "beta.example",
    "webhooks": [{ "id": "all", "url": "http://127.0.0.1:$rport/beta", "secret": "$secret_beta",
                   "events": ["*"] }] }
]}
EOF
}
doc '["task.ended"]' >"$tmp/doc.json"

serve_up() {
    start --http "127.0.0.1:$hport" "$@" || return 1
    for _ in $(seq 1 50); do
        curl -s --max-time 2 "$base/api/v1/health" >/dev/null && return 0
        sleep 0.1
    done
    return 1
}
login() { # login TENANT USER PASSWORD -> token ("" tenant: an operator)
    local t=""
    [[ -n "$1" ]] && t="\"tenant\":\"$1\","
    curl -s --max-time 10 -X POST "$base/api/v1/login" \
        --data-binary "{$t\"user\":\"$2\",\"password\":\"$3\"}" |
        python3 -c 'import json,sys; print(json.load(sys.stdin).get("token",""))' 2>/dev/null
}
set_state() { # set_state STATE: agent 1001's state, by the supervisor; prints the status
    curl -s --max-time 10 -o /dev/null -w '%{http_code}' -X PUT \
        -H "Authorization: Bearer $sup" -H 'Content-Type: application/json' \
        --data-binary "{\"state\":\"$1\"}" "$base/api/v1/tenants/acme/agents/1001/state"
}

receiver_start
check "receiver starts" $?
serve_up --provision "$tmp/doc.json"
check "serve starts with --http and webhooks" $?
sup=$(login acme sup super-pass-0001)
ops=$(login "" ops operator-pass-1)
[[ "$sup" == sgt_* && "$ops" == sgt_* ]]
check "logins" $?

# --- an agent's state change reaches the webhook, signed
[[ "$(set_state ready)" == 200 ]]
check "agent 1001 ready through the API" $?
wait_for 'any(x["path"] == "/hook" for x in r)' 10
check "the event reaches the webhook" $?
[[ "$(q 'all(x["sig_ok"] for x in r)')" == True ]]
check "signature verifies (HMAC-SHA256 over timestamp.body)" $?
[[ "$(q 'all(x["event"] == "agent.state" and x["body"]["type"] == "agent.state" for x in r)')" == True ]]
check "X-Shenggu-Event and the body's type are agent.state" $?
[[ "$(q 'all(x["body"]["tenant"] == "acme" and x["body"]["user"] == "1001" and x["body"]["data"]["state"] == "ready" for x in r if x["path"] == "/hook")')" == True ]]
check "the body is the event: tenant, agent, new state" $?
[[ "$(q 'all(x["ctype"] == "application/json" and x["delivery"].isdigit() for x in r)')" == True ]]
check "Content-Type and X-Shenggu-Delivery" $?
sleep 1 # the outbox empties once the 2xx is recorded
[[ "$(sql "SELECT count(*) FROM webhook_outbox")" == 0 ]]
check "delivered: the outbox is empty" $?

# --- not chosen, not sent; another tenant's webhook sees nothing of acme
[[ "$(set_state not-ready)" == 200 ]]
check "agent 1001 not ready" $?
wait_for 'sum(x["path"] == "/hook" for x in r) >= 2' 10
check "the second change arrives" $?
sleep 1
[[ "$(q 'sum(x["path"] in ("/other", "/beta") for x in r)')" == 0 ]]
check "events not chosen are not sent, other tenants get nothing" $?
[[ "$(q 'set(x["event"] for x in r) == {"agent.state"}')" == True ]]
check "the webhook gets only the types it chose" $?

# --- a webhook changed through the API (PUT of the tenant's document)
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps(d["tenants"][0]))' \
    <(doc '["config.changed"]') >"$tmp/acme.json"
st=$(curl -s --max-time 10 -o "$tmp/put.out" -w '%{http_code}' -X PUT \
    -H "Authorization: Bearer $ops" -H 'Content-Type: application/json' \
    --data-binary @"$tmp/acme.json" "$base/api/v1/tenants/acme")
[[ "$st" == 200 ]] || cat "$tmp/put.out"
check "PUT of acme's document with other webhook events" "$([[ "$st" == 200 ]] && echo 0 || echo 1)"
wait_for 'any(x["path"] == "/other" and x["event"] == "config.changed" and x["sig_ok"] for x in r)' 10
check "the changed webhook gets the event it chose now" $?

# --- 500, then 200: retried and delivered
echo 500-once >"$tmp/mode"
[[ "$(set_state ready)" == 200 ]]
check "agent 1001 ready again" $?
wait_for 'any(x["status"] == 500 for x in r)' 10
check "the receiver answers 500" $?
did=$(q '[x["delivery"] for x in r if x["status"] == 500][0]')
wait_for "any(x['delivery'] == '$did' and x['status'] == 200 for x in r)" 15
check "the same delivery is retried after a 500 and delivered" $?
[[ "$(q "all(x['sig_ok'] for x in r if x['delivery'] == '$did')")" == True ]]
check "the retry is signed afresh" $?
echo 200 >"$tmp/mode"
sleep 1
[[ "$(sql "SELECT count(*) FROM webhook_outbox")" == 0 ]]
check "the outbox is empty after the retry" $?

# --- receiver down, kill -9, receiver up, restart: nothing lost
receiver_stop
: >"$tmp/got.jsonl"
for s in not-ready ready not-ready ready; do
    [[ "$(set_state "$s")" == 200 ]] || echo "  state $s refused"
done
# Every delivery is in the outbox and has failed once (connection refused).
for _ in $(seq 1 100); do
    [[ "$(sql "SELECT count(*) FROM webhook_outbox WHERE webhook_id = 'crm' AND attempts = 0")" == 0 &&
       "$(sql "SELECT count(*) FROM webhook_outbox WHERE webhook_id = 'crm'")" -ge 4 ]] && break
    sleep 0.1
done
sql "SELECT id FROM webhook_outbox WHERE status = 'pending' ORDER BY id" >"$tmp/pending"
n=$(wc -l <"$tmp/pending")
[[ "$n" -ge 4 ]]
check "4 changes with the receiver down: $n deliveries pending" $?
[[ "$(sql "SELECT min(attempts) FROM webhook_outbox")" -ge 1 ]]
check "each was attempted and failed" $?
kill -9 "$pid"
wait "$pid" 2>/dev/null
pid=""
receiver_start
check "receiver up again" $?
serve_up
check "serve restarts" $?
ids=$(paste -sd, "$tmp/pending")
wait_for "set(x['delivery'] for x in r if x['status'] == 200) >= set('$ids'.split(','))" 40
check "after kill -9 and restart, every pending delivery arrives" $?
got=$(q "len(set(x['delivery'] for x in r if x['status'] == 200) & set('$ids'.split(',')))")
[[ "$got" == "$n" ]]
check "counted: $got of $n delivered" $?
[[ "$(q 'all(x["sig_ok"] for x in r)')" == True ]]
check "all of them signed" $?
for _ in $(seq 1 30); do
    [[ "$(sql "SELECT count(*) FROM webhook_outbox")" == 0 ]] && break
    sleep 0.1
done
[[ "$(sql "SELECT count(*) FROM webhook_outbox")" == 0 ]]
check "the outbox is empty again" $?

# --- a clean stop
kill -TERM "$pid"
rc=1
for _ in $(seq 1 100); do
    if ! kill -0 "$pid" 2>/dev/null; then
        wait "$pid"
        rc=$?
        break
    fi
    sleep 0.1
done
pid=""
[[ $rc -eq 0 ]] || tail -30 "$log"
check "serve stops cleanly (exit 0, no leak)" "$rc"

summary webhooks
