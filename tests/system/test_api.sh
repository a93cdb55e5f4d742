#!/usr/bin/env bash
# The platform API through the real `shenggu serve --http` on loopback, with
# curl and a Node WebSocket client:
#   - logins of every role (argon2id), wrong passwords, throttling (429);
#   - an exhaustive walk: every endpoint with every role and with a foreign
#     tenant's token (404, the same answer as for a tenant that does not
#     exist), agents limited to themselves;
#   - errors as JSON naming the field; 401, 404, 405, 413;
#   - agent state set through the API, seat quota enforced at login;
#   - the event stream: a supervisor sees an agent's change live, an agent
#     sees only its own, a reconnect with last_id gets what it missed;
#   - PUT of a tenant's document (the provisioning operation);
#   - gzip, static files, Prometheus /metrics, logout;
#   - kill -9 and restart: tokens and the audit log survive.
# Every client call is bounded (curl --max-time, the WebSocket client's timer).
#
# Usage: tests/system/test_api.sh [BUILD_DIR] [DB_URL]   (default build, SQLite)
set -uo pipefail
cd "$(dirname "$0")/../.."
bin="$(pwd)/${1:-build}/shenggu"
db_url="${2:-}"
. tests/system/lib.sh

port=$(free_port)
# HTTP is TCP only: a port free for TCP, not the SIP port.
hport=$port
while [[ "$hport" == "$port" ]]; do
    hport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
done
base="http://127.0.0.1:$hport"
ws_client() { timeout 20 node --experimental-websocket --no-warnings tests/system/ws_client.mjs "$@"; }
# wait_hello FILE: until the stream client writing FILE is connected (bounded)
wait_hello() {
    for _ in $(seq 1 100); do grep -q '"type":"hello"' "$1" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}

cat >"$tmp/doc.json" <<EOF
{ "operators": [{ "id": "ops", "name": "Operator", "password": "operator-pass-1" }],
  "tenants": [
  { "id": "acme", "name": "ACME", "domain": "acme.example", "seats": 2,
    "trunks": [{ "id": "lo", "from": ["127.0.0.1"] }],
    "district": "Guanshanhu", "park": "Big Data Park",
    "pause_reasons": { "2": "break" },
    "users": [
      { "id": "1001", "name": "Li Na", "password": "agent-pass-1001", "roles": ["agent"], "skills": { "loans": 5 } },
      { "id": "1002", "password": "agent-pass-1002", "roles": ["agent"], "skills": { "loans": 5 } },
      { "id": "1003", "password": "agent-pass-1003", "roles": ["agent"], "skills": { "loans": 5 } },
      { "id": "sup", "password": "super-pass-0001", "roles": ["supervisor"] },
      { "id": "admin", "password": "admin-pass-0001", "roles": ["tenant-admin", "supervisor"] }
    ],
    "queues": [{ "id": "loans", "strategy": "longest-idle", "skills": { "loans": 1 } }],
    "numbers": [{ "number": "8585100001", "route": { "ivr": "main" } }],
    "ivr": [{ "id": "main", "prompt": { "tts": "Welcome." }, "options": { "1": { "queue": "loans" } } }]
  },
  { "id": "beta", "name": "Beta", "domain": "beta.example",
    "users": [{ "id": "admin", "password": "beta-admin-pass", "roles": ["tenant-admin"] }] }
]}
EOF

serve_args=(--http "127.0.0.1:$hport" --web web --provision "$tmp/doc.json" --digest-order md5-first)
[[ -n "$db_url" ]] && serve_args+=(--db "$db_url")
start "${serve_args[@]}"
check "serve starts with --http" $?
for _ in $(seq 1 50); do
    curl -s --max-time 2 "$base/api/v1/health" >/dev/null && break
    sleep 0.1
done

# req METHOD PATH TOKEN [BODY]: prints the status; the body goes to $tmp/body.
req() {
    local args=(-s --max-time 10 -o "$tmp/body" -w '%{http_code}' -X "$1")
    [[ -n "$3" ]] && args+=(-H "Authorization: Bearer $3")
    [[ $# -ge 4 ]] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
    curl "${args[@]}" "$base$2"
}
body_has() { grep -q -- "$1" "$tmp/body"; }
expect() { # expect NAME STATUS METHOD PATH TOKEN [BODY]
    local name="$1" want="$2" got
    shift 2
    got=$(req "$@")
    [[ "$got" == "$want" ]] || echo "  $name: got $got, want $want: $(head -c 300 "$tmp/body")"
    check "$name" "$([[ "$got" == "$want" ]] && echo 0 || echo 1)"
}
login() { # login TENANT USER PASSWORD -> token
    local body
    if [[ -n "$1" ]]; then body="{\"tenant\":\"$1\",\"user\":\"$2\",\"password\":\"$3\"}"
    else body="{\"user\":\"$2\",\"password\":\"$3\"}"; fi
    curl -s --max-time 10 -X POST "$base/api/v1/login" --data-binary "$body" |
        python3 -c 'import json,sys; print(json.load(sys.stdin).get("token",""))' 2>/dev/null
}

# --- public endpoints and plain errors
expect "health" 200 GET /api/v1/health ""
body_has '"status":"ok"'; check "health says ok" $?
curl -s --max-time 5 --http1.0 "$base/api/v1/health" | grep -q '"status":"ok"'
check "HTTP/1.0 (no keep-alive)" $?
[[ $(curl -s --max-time 5 -H 'Connection: close' "$base/api/v1/health" "$base/api/v1/health" | grep -o '"status":"ok"' | wc -l) -eq 2 ]]
check "Connection: close, twice" $?
expect "no such endpoint" 404 GET /api/v1/nothing ""
body_has '"message":"path: no such endpoint"'; check "404 names the path" $?
expect "405 on a known path" 405 DELETE /api/v1/health ""
curl -s --max-time 5 -i -X DELETE "$base/api/v1/health" | grep -qi '^allow: GET'
check "405 says Allow" $?
expect "no token" 401 GET /api/v1/tenants ""
curl -s --max-time 5 -i "$base/api/v1/tenants" | grep -qi '^www-authenticate: Bearer'
check "401 says WWW-Authenticate" $?
expect "bad token" 401 GET /api/v1/me "sgt_nonsense"
expect "openapi served" 200 GET /api/v1/openapi.json ""
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["openapi"].startswith("3.")' "$tmp/body"
check "openapi is an OpenAPI 3 document" $?
# Kept true: the document lists exactly the router's routes (and the stream).
python3 - "$tmp/body" src/api/api_router.c <<'PY'
import json, re, sys
doc = json.load(open(sys.argv[1]))
documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
routed = set(re.findall(r'\{HTTP_([A-Z]+), "([^"]+)"', open(sys.argv[2]).read()))
routed.add(("GET", "/api/v1/events"))
if documented != routed:
    print("  openapi.json vs router: only documented", sorted(documented - routed),
          "only routed", sorted(routed - documented))
    sys.exit(1)
PY
check "openapi.json lists exactly the routes" $?

# --- logins
expect "login: not JSON" 400 POST /api/v1/login "" '{"user":'
body_has '"message":"body: '; check "400 names the body" $?
expect "login: no user" 400 POST /api/v1/login "" '{"password":"x"}'
body_has '"message":"user: '; check "400 names the field" $?
expect "login: wrong password" 401 POST /api/v1/login "" '{"tenant":"acme","user":"1001","password":"wrong-password"}'
expect "login: unknown user" 401 POST /api/v1/login "" '{"tenant":"acme","user":"nobody","password":"wrong-password"}'
ops=$(login "" ops operator-pass-1)
admin=$(login acme admin admin-pass-0001)
sup=$(login acme sup super-pass-0001)
a1=$(login acme 1001 agent-pass-1001)
a2=$(login acme 1002 agent-pass-1002)
a3=$(login acme 1003 agent-pass-1003)
beta=$(login beta admin beta-admin-pass)
for t in ops admin sup a1 a2 a3 beta; do
    [[ "${!t}" == sgt_* ]]; check "login $t" $?
done
expect "me" 200 GET /api/v1/me "$a1"
body_has '"roles":\["agent"\]' && body_has '"user":"1001"'; check "me names the agent" $?

# --- the exhaustive walk: every endpoint, every role, a foreign tenant.
# Each line: METHOD PATH then the status for ops admin sup a1 beta.
while read -r m p s_ops s_admin s_sup s_a1 s_beta; do
    [[ -z "$m" || "$m" == \#* ]] && continue
    i=0
    for who in ops admin sup a1 beta; do
        want=($s_ops $s_admin $s_sup $s_a1 $s_beta)
        expect "$m $p as $who" "${want[$i]}" "$m" "$p" "${!who}"
        i=$((i + 1))
    done
done <<'EOF'
GET /api/v1/tenants                          200 403 403 403 403
GET /api/v1/audit                            200 403 403 403 403
GET /metrics                                 200 403 403 403 403
GET /api/v1/tenants/acme                     200 200 200 200 404
GET /api/v1/tenants/acme/users               200 200 200 403 404
GET /api/v1/tenants/acme/users/1001          200 200 200 200 404
GET /api/v1/tenants/acme/users/1002          200 200 200 404 404
GET /api/v1/tenants/acme/queues              200 200 200 200 404
GET /api/v1/tenants/acme/queues/loans        200 200 200 200 404
GET /api/v1/tenants/acme/ivr/main            200 200 403 403 404
GET /api/v1/tenants/acme/numbers             200 200 403 403 404
GET /api/v1/tenants/acme/skills              200 200 200 403 404
GET /api/v1/tenants/acme/agents              200 200 200 403 404
GET /api/v1/tenants/acme/agents/1001         200 200 200 200 404
GET /api/v1/tenants/acme/agents/1002         200 200 200 404 404
GET /api/v1/tenants/acme/metrics             200 200 200 200 404
GET /api/v1/tenants/acme/metrics/queues/loans 200 200 200 200 404
GET /api/v1/tenants/acme/calls               200 200 200 403 404
DELETE /api/v1/tenants/acme/calls/nocall     404 404 404 404 404
GET /api/v1/tenants/acme/cdrs                200 200 200 200 404
PUT /api/v1/tenants/acme/cdrs/nocall/wrapup  400 400 400 400 404
GET /api/v1/tenants/acme/queue_log           200 200 200 403 404
GET /api/v1/tenants/acme/audit               200 200 403 403 404
GET /api/v1/usage                            200 403 403 403 403
GET /api/v1/stats/seats                      200 403 403 403 403
GET /api/v1/seat-requests                    200 403 403 403 403
PUT /api/v1/seat-requests/1                  400 403 403 403 403
GET /api/v1/tenants/acme/seat-requests       200 200 403 403 404
POST /api/v1/tenants/acme/seat-requests      400 400 403 403 404
GET /api/v1/tenants/acme/recordings          200 200 200 403 404
GET /api/v1/tenants/acme/recordings/nocall   404 404 404 403 404
GET /api/v1/tenants/acme/recordings/nocall/audio 404 404 404 403 404
GET /api/v1/tenants/acme/usage               200 200 403 403 404
PUT /api/v1/tenants/acme                     400 403 403 403 404
GET /api/v1/tenants/nosuch                   404 404 404 404 404
GET /api/v1/tenants/nosuch/queues/loans      404 404 404 404 404
EOF
# A foreign tenant's 404 is the very answer a missing tenant gives.
req GET /api/v1/tenants/acme/queues "$beta" >/dev/null; cp "$tmp/body" "$tmp/foreign"
req GET /api/v1/tenants/nosuch/queues "$admin" >/dev/null
cmp -s "$tmp/body" "$tmp/foreign"; check "foreign tenant: same 404 as none" $?

# --- agent state through the API, seen live on the event stream
ws="ws://127.0.0.1:$hport/api/v1/events"
ws_client "$ws?token=$sup" 8000 2 >"$tmp/ev_sup" &
wsup=$!
ws_client "$ws?token=$a2" 8000 >"$tmp/ev_a2" &
wa2=$!
wait_hello "$tmp/ev_sup"; wait_hello "$tmp/ev_a2"
expect "agent 1001 ready" 200 PUT /api/v1/tenants/acme/agents/1001/state "$a1" '{"state":"ready"}'
body_has '"state":"ready"'; check "the answer shows ready" $?
expect "agent 1001 may not set 1002" 404 PUT /api/v1/tenants/acme/agents/1002/state "$a1" '{"state":"ready"}'
expect "bad state names the field" 400 PUT /api/v1/tenants/acme/agents/1001/state "$a1" '{"state":"asleep"}'
body_has '"message":"state: '; check "400 names state" $?
expect "bad reason names the field" 400 PUT /api/v1/tenants/acme/agents/1001/state "$a1" '{"state":"not-ready","reason":"x"}'
body_has '"message":"reason: '; check "400 names reason" $?
wait "$wsup"
grep -q '"type":"agent.state".*"user":"1001"' "$tmp/ev_sup"; check "supervisor sees 1001's state live" $?
grep -q '"type":"hello"' "$tmp/ev_sup"; check "stream says hello" $?
expect "supervisor sets 1002 not ready (break)" 200 PUT /api/v1/tenants/acme/agents/1002/state "$sup" '{"state":"not-ready","reason":2}'
body_has '"reason":"break"'; check "reason named" $?
expect "seat quota: third agent refused" 409 PUT /api/v1/tenants/acme/agents/1003/state "$a3" '{"state":"ready"}'
body_has '"code":"quota"'; check "409 says quota" $?
wait "$wa2"
grep -q '"user":"1002"' "$tmp/ev_a2"; check "agent 1002 sees its own change" $?
! grep -q '"user":"1001"' "$tmp/ev_a2"; check "agent 1002 does not see 1001" $?
last=$(grep -o '"id":[0-9][0-9]*' "$tmp/ev_sup" | tail -1 | cut -d: -f2)
ws_client "$ws?token=$sup&last_id=$last" 3000 1 >"$tmp/ev_replay"
grep -q '"user":"1002"' "$tmp/ev_replay"; check "reconnect with last_id replays the missed event" $?
ws_client "$ws?token=$beta" 2000 >"$tmp/ev_beta"
! grep -q '"tenant":"acme"' "$tmp/ev_beta"; check "a foreign tenant sees nothing of acme" $?
ws_client "$ws" 2000 >"$tmp/ev_none"
check "stream without a token refused" "$([[ $? -eq 2 ]] && echo 0 || echo 1)"

# --- a phone's registration is an event about its user
ws_client "$ws?token=$sup" 8000 1 >"$tmp/ev_reg" &
wreg=$!
wait_hello "$tmp/ev_reg"
sipp_as 127.0.0.1 reg_ok.xml acme.example 1003 agent-pass-1003
check "agent 1003's phone registers" $?
wait "$wreg"
grep -q '"type":"registration".*"registered":true.*"user":"1003"' "$tmp/ev_reg"
check "registration event on the stream" $?

# --- reads
expect "agents" 200 GET /api/v1/tenants/acme/agents "$sup"
python3 - "$tmp/body" <<'PY'
import json, sys
d = {a["id"]: a for a in json.load(open(sys.argv[1]))["items"]}
assert d["1001"]["state"] == "ready" and d["1002"]["state"] == "not-ready", d
assert d["1003"]["state"] == "logged-out", d
PY
check "agents' states" $?
expect "metrics" 200 GET /api/v1/tenants/acme/metrics/queues/loans "$a1"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["id"]=="loans" and d["logged_in"]==2, d' "$tmp/body"
check "queue metrics count logged-in members" $?
expect "queue_log" 200 GET /api/v1/tenants/acme/queue_log "$sup"
grep -q '|NONE|1001|AGENTLOGIN|' "$tmp/body"; check "queue_log has the login" $?
expect "cdrs: bad limit" 400 GET "/api/v1/tenants/acme/cdrs?limit=0" "$sup"
body_has '"message":"limit: '; check "400 names limit" $?
expect "cdrs: bad from" 400 GET "/api/v1/tenants/acme/cdrs?from=yesterday" "$sup"
body_has '"message":"from: '; check "400 names from" $?
expect "audit" 200 GET /api/v1/tenants/acme/audit "$admin"
body_has '"action":"agent.state"' && body_has '"actor":"acme/sup"'; check "audit has who set what" $?
expect "skills" 200 GET /api/v1/tenants/acme/skills "$sup"
python3 -c 'import json,sys; d={s["skill"]: s for s in json.load(open(sys.argv[1]))["items"]}; l=d["loans"]; assert l["agents"]=={"1001":5,"1002":5,"1003":5} and l["queues"]=={"loans":1}, d' "$tmp/body"
check "skills: agents' levels and queues' minimums" $?
expect "numbers" 200 GET /api/v1/tenants/acme/numbers "$admin"
body_has '"number":"8585100001","route":{"ivr":"main"}'; check "numbers with their routes" $?
expect "seat statistics" 200 GET /api/v1/stats/seats "$ops"
python3 - "$tmp/body" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
g = {(i["district"], i["park"]): i for i in d["items"]}
a = g[("Guanshanhu", "Big Data Park")]
assert a["tenants"] == 1 and a["seats"] == 2 and a["agents"] == 3 and a["in_use"] == 2, a
assert d["total"]["tenants"] == 2 and d["total"]["in_use"] == 2, d
PY
check "seats by district and park: quota, agents, in use" $?
expect "usage" 200 GET /api/v1/tenants/acme/usage "$admin"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["calls"]==0 and d["agent_minutes"]>0, d' "$tmp/body"
check "usage counts the agents' logged-in time" $?
expect "usage: bad period named" 400 GET "/api/v1/tenants/acme/usage?from=5&to=4" "$admin"
body_has '"message":"from: '; check "400 names from" $?
expect "prometheus" 200 GET /metrics "$ops"
body_has '^shenggu_up 1'; check "prometheus text" $?
body_has '^shenggu_registrations 1$'; check "prometheus counts the registration" $?

# --- limits and encodings
head -c 1100000 /dev/zero | tr '\0' 'a' >"$tmp/big"
got=$(curl -s --max-time 10 -o "$tmp/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $ops" --data-binary @"$tmp/big" "$base/api/v1/login")
check "413 for a body over the limit" "$([[ "$got" == 413 ]] && echo 0 || echo 1)"
curl -s --max-time 10 -H 'Accept-Encoding: gzip' -H "Authorization: Bearer $sup" -D "$tmp/h" -o "$tmp/gz" "$base/api/v1/tenants/acme/agents"
grep -qi '^content-encoding: gzip' "$tmp/h" && gunzip -c "$tmp/gz" | python3 -c 'import json,sys; json.load(sys.stdin)'
check "gzip for clients that take it" $?
expect "static page" 200 GET / ""
curl -s --max-time 5 -D - -o /dev/null "$base/" | grep -qi "^content-security-policy: default-src 'none'"
check "pages carry a Content-Security-Policy" $?
curl -s --max-time 5 -D - -o /dev/null "$base/api/v1/health" | grep -qi '^x-content-type-options: nosniff'
check "API answers carry nosniff" $?
expect "no path out of the web folder" 404 GET /../../etc/passwd ""

# --- the tenant's document through the API: the provisioning operation
expect "PUT tenant: bad field named" 400 PUT /api/v1/tenants/acme "$ops" '{"name":"ACME","domain":"acme.example","queues":[{"id":"q","strategy":"fastest"}]}'
body_has 'queues\[0\].strategy'; check "400 names the document path" $?
expect "PUT tenant: other id refused" 400 PUT /api/v1/tenants/acme "$ops" '{"id":"beta","name":"x","domain":"acme.example"}'
cp "$tmp/doc.json" "$tmp/doc2.json"
python3 - "$tmp/doc.json" >"$tmp/acme.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["tenants"][0]
t["queues"].append({"id": "cards", "strategy": "ring-all", "skills": {"loans": 1}})
print(json.dumps(t))
PY
expect "PUT tenant: a queue added" 200 PUT /api/v1/tenants/acme "$ops" "$(cat "$tmp/acme.json")"
expect "the new queue is there" 200 GET /api/v1/tenants/acme/queues/cards "$admin"
expect "the ACD serves the new queue at once" 200 GET /api/v1/tenants/acme/metrics/queues/cards "$sup"

# --- seat requests: the tenant admin asks, the operator decides
expect "seat request" 201 POST /api/v1/tenants/acme/seat-requests "$admin" '{"seats":3,"reason":"campaign"}'
sr=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$tmp/body")
expect "seat request: bad seats named" 400 POST /api/v1/tenants/acme/seat-requests "$admin" '{"seats":-1}'
body_has '"message":"seats: '; check "400 names seats" $?
expect "pending requests" 200 GET "/api/v1/seat-requests?status=pending" "$ops"
body_has "\"id\":$sr,"; check "the operator sees the request" $?
expect "approve" 200 PUT "/api/v1/seat-requests/$sr" "$ops" '{"decision":"approve"}'
body_has '"status":"approved"'; check "approved" $?
expect "decided once" 409 PUT "/api/v1/seat-requests/$sr" "$ops" '{"decision":"refuse"}'
expect "bad decision named" 400 PUT "/api/v1/seat-requests/$sr" "$ops" '{"decision":"maybe"}'
body_has '"message":"decision: '; check "400 names decision" $?
expect "the third agent now gets a seat" 200 PUT /api/v1/tenants/acme/agents/1003/state "$a3" '{"state":"ready"}'
expect "tenant shows the new quota" 200 GET /api/v1/tenants/acme "$admin"
body_has '"seats":3'; check "seats 3" $?

# --- throttling
for i in 1 2 3 4 5; do req POST /api/v1/login "" '{"tenant":"beta","user":"admin","password":"wrong-password"}' >/dev/null; done
got=$(curl -s --max-time 10 -D "$tmp/h" -o "$tmp/body" -w '%{http_code}' -X POST "$base/api/v1/login" --data-binary '{"tenant":"beta","user":"admin","password":"beta-admin-pass"}')
check "throttled after 5 failures (429)" "$([[ "$got" == 429 ]] && echo 0 || echo 1)"
grep -qi '^retry-after: [0-9]' "$tmp/h"; check "429 says Retry-After" $?

# --- a call in progress, listed and hung up through the API
timeout 60 sipp -sf tests/system/sipp/call_answered_wait.xml -m 1 -i 127.0.0.1 -p "$(free_port)" \
    -mp "$(free_port)" -key number 8585100001 -timeout 40 -timeout_error -nostdin \
    127.0.0.1:"$port" >"$tmp/caller.out" 2>&1 &
cpid=$!
uuid=""
for _ in $(seq 1 100); do
    req GET /api/v1/tenants/acme/calls "$sup" >/dev/null
    uuid=$(python3 -c 'import json,sys; i=json.load(open(sys.argv[1]))["items"]; print(i[0]["uuid"] if i else "")' "$tmp/body")
    [[ -n "$uuid" ]] && break
    sleep 0.1
done
[[ -n "$uuid" ]]; check "the call is listed" $?
expect "an agent may not hang up another's call" 404 DELETE "/api/v1/tenants/acme/calls/$uuid" "$a1"
expect "a foreign tenant may not either" 404 DELETE "/api/v1/tenants/acme/calls/$uuid" "$beta"
expect "the supervisor hangs it up" 204 DELETE "/api/v1/tenants/acme/calls/$uuid" "$sup"
wait "$cpid"; check "the caller got BYE" $?

# --- its wrap-up on the CDR (the CDR lands a few ms after the call)
for _ in $(seq 1 50); do
    [[ "$(req PUT "/api/v1/tenants/acme/cdrs/$uuid/wrapup" "$sup" '{"disposition":"sale","notes":"gold card"}')" == 200 ]] && break
    sleep 0.1
done
body_has '"disposition":"sale"'; check "the supervisor's wrap-up is stored" $?
expect "an agent's wrap-up of a call it did not answer" 404 PUT "/api/v1/tenants/acme/cdrs/$uuid/wrapup" "$a1" '{"disposition":"x"}'
expect "wrap-up without a disposition" 400 PUT "/api/v1/tenants/acme/cdrs/$uuid/wrapup" "$sup" '{"notes":"x"}'
body_has '"message":"disposition: '; check "400 names disposition" $?
expect "the CDR shows it" 200 GET /api/v1/tenants/acme/cdrs "$sup"
python3 -c 'import json,sys; c=[c for c in json.load(open(sys.argv[1]))["items"] if c["uuid"]==sys.argv[2]][0]; assert c["disposition"]=="sale" and c["notes"]=="gold card" and c["cause"]=="api-hangup", c' "$tmp/body" "$uuid"
check "the CDR has the disposition, the notes and the API's hang-up" $?

# --- restart: tokens and the audit log are durable
kill -9 "$pid"; wait "$pid" 2>/dev/null
start "${serve_args[@]}"
check "restart after kill -9" $?
for _ in $(seq 1 50); do curl -s --max-time 2 "$base/api/v1/health" >/dev/null && break; sleep 0.1; done
expect "token valid after restart" 200 GET /api/v1/me "$sup"
expect "audit after restart" 200 GET /api/v1/audit "$ops"
body_has '"action":"tenant.put"'; check "the PUT is in the audit log" $?
expect "logout" 204 POST /api/v1/logout "$a1"
expect "token gone after logout" 401 GET /api/v1/me "$a1"

kill "$pid"; wait "$pid"; rc=$?; pid=""
check "stops cleanly on SIGTERM" "$rc"
! grep -h 'ERROR: .*Sanitizer\|runtime error:' "$tmp"/serve-*.log
check "no sanitizer report in the server's logs" $?
summary api
