#!/usr/bin/env bash
# Calls through the real `shenggu serve` on loopback, with SIPp as the
# caller (a carrier trunk: 127.0.0.1 is on acme's trunk list) and as the
# agent's phone (registered as 1001@acme.example, then answering on the
# same port), RTP from SIPp's pcaps (G.711 A-law audio, RFC 4733 keys):
#   - a number routed to an IVR: the prompt plays, key 1 routes to the
#     agent, both talk, the caller hangs up; then the agent hangs up;
#   - hold and resume by re-INVITE; a number routed to a user directly;
#   - CANCEL before the answer (487); no common codec (488); an unknown
#     number (404); a stranger calling a number of a tenant with no trunk
#     for it (403);
#   - a caller whose RTP never comes ends after --rtp-timeout;
#   - the CDRs of all of it with `shenggu cdr`;
#   - `shenggu demo` prints what to call and answers the call.
# Every SIPp run is bounded (-timeout); the server is stopped by PID.
#
# Usage: tests/system/test_calls.sh [BUILD_DIR]      (default build)
set -uo pipefail
cd "$(dirname "$0")/../.."
bin="$(pwd)/${1:-build}/shenggu"
. tests/system/lib.sh

port=$(free_port)
agent_port=$(free_port)
rtp_lo=$((30000 + (port % 100) * 40))
cat >"$tmp/doc.json" <<EOF
{ "version": 1, "tenants": [{
    "id": "acme", "name": "ACME", "domain": "acme.example",
    "trunks": [{ "id": "lo", "from": ["127.0.0.1"] }],
    "numbers": [
      { "number": "8585100001", "route": { "ivr": "simple" } },
      { "number": "8585100002", "route": { "user": "1001" } },
      { "number": "8585100003", "route": { "queue": "general" } }
    ],
    "users": [{ "id": "1001", "password": "s3cret-1001", "roles": ["agent"] }],
    "queues": [{ "id": "general" }],
    "ivr": [{ "id": "simple", "prompt": { "tts": "For sales press 1." },
              "options": { "1": { "user": "1001" } },
              "timeout": { "hangup": true }, "timeout_s": 8 }]
  }, {
    "id": "globex", "name": "Globex", "domain": "globex.example",
    "numbers": [{ "number": "8585200001", "route": { "queue": "support" } }],
    "queues": [{ "id": "support" }]
  }]
}
EOF
start --provision "$tmp/doc.json" --digest-order md5-first --rtp-ports "$rtp_lo-$((rtp_lo + 39))" --rtp-timeout 8
check "serve starts with calls" $?

# caller SCENARIO NUMBER [ARGS...]: one call from 127.0.0.1 to NUMBER.
caller() {
    local sf="$1" number="$2"
    shift 2
    timeout 60 sipp -sf "tests/system/sipp/$sf" -m 1 -i 127.0.0.1 -p "$(free_port)" \
        -mp "$(free_port)" -key number "$number" -timeout 30 -timeout_error -nostdin \
        "$@" 127.0.0.1:"$port" >"$tmp/caller.out" 2>&1
}

# agent SCENARIO: the agent's phone answers one call in the background ($apid).
agent() {
    timeout 60 sipp -sf "tests/system/sipp/$1" -m 1 -i 127.0.0.1 -p "$agent_port" \
        -mp "$(free_port)" -timeout 40 -timeout_error -nostdin 127.0.0.1:"$port" \
        >"$tmp/agent.out" 2>&1 &
    apid=$!
    sleep 0.5
}

# The last CDR line of acme (CSV) as "route,ivr_path,agent,side,status,cause".
last_cdr() {
    new_cdr acme |
        awk -F, '{print $4 "," $5 "," $6 "," $12 "," $13 "," $14}' | tr -d '\r"'
}

# The agent registers from the port it answers on.
sipp_as_port() {
    timeout 60 sipp -sf tests/system/sipp/reg_ok.xml -m 1 -i 127.0.0.1 -p "$agent_port" \
        -key domain acme.example -key user 1001 -au 1001 -ap s3cret-1001 \
        -timeout 20 -timeout_error -nostdin 127.0.0.1:"$port" >"$tmp/reg.out" 2>&1
}
sipp_as_port; check "the agent registers" $?
# A baseline once everything is started: the calls below must give back
# every socket (RTP and RTCP per leg) and thread they take.
fds_before=$(ls /proc/"$pid"/fd 2>/dev/null | wc -l)
threads_before=$(awk '/^Threads/{print $2}' /proc/"$pid"/status)
[[ $fail -eq 0 ]] || tail -n 5 "$tmp/reg.out"

# 1. IVR: prompt, key 1, the agent answers, talk, the caller hangs up.
agent agent_answer.xml
caller call_ivr.xml 8585100001; check "IVR call: prompt, key 1, agent, talk, caller hangs up" $?
wait "$apid"; check "the agent's phone rang, answered and got the BYE" $?
cdr=$(last_cdr)
[[ "$cdr" == "ivr:simple,simple>menu:1>user:1001,1001,caller,200,normal" ]]
check "CDR of the IVR call ($cdr)" $?

# 2. The same, the agent hangs up: the caller gets the BYE.
agent agent_hangup.xml
caller call_wait_bye.xml 8585100001; check "the agent hangs up, the caller gets BYE" $?
wait "$apid"; check "the agent's BYE was answered" $?
cdr=$(last_cdr)
[[ "$cdr" == "ivr:simple,simple>menu:1>user:1001,1001,callee,200,normal" ]]
check "CDR says the agent hung up ($cdr)" $?

# 3. A number routed to the user: hold and resume by the caller.
agent agent_answer.xml
caller call_hold.xml 8585100002; check "hold (sendonly -> recvonly) and resume" $?
wait "$apid"; check "the agent's side of the held call ended" $?

# 4. Refusals, each with its status and a CDR only when a tenant was entered.
sed -e "s/STATUS/488/" -e "s/CODEC_PT/18/" -e "s/CODEC_MAP/18 G729/" tests/system/sipp/call_refused.xml >"$tmp/r488.xml"
sed -e "s/STATUS/404/" -e "s/CODEC_PT/8/" -e "s/CODEC_MAP/8 PCMA/" tests/system/sipp/call_refused.xml >"$tmp/r404.xml"
sed -e "s/STATUS/403/" -e "s/CODEC_PT/8/" -e "s/CODEC_MAP/8 PCMA/" tests/system/sipp/call_refused.xml >"$tmp/r403.xml"
run_refused() {
    timeout 60 sipp -sf "$1" -m 1 -i 127.0.0.1 -p "$(free_port)" -key number "$2" \
        -timeout 20 -timeout_error -nostdin 127.0.0.1:"$port" >"$tmp/caller.out" 2>&1
}
run_refused "$tmp/r488.xml" 8585100001; check "no common codec: 488" $?
run_refused "$tmp/r404.xml" 8585999999; check "unknown number: 404" $?
run_refused "$tmp/r403.xml" 8585200001; check "a number of a tenant without this trunk: 403" $?

# 5. CANCEL while the agent's phone rings.
agent agent_ring.xml
caller call_cancel.xml 8585100002; check "CANCEL before the answer: 200, then 487" $?
wait "$apid"; check "the ringing phone got the CANCEL" $?
cdr=$(last_cdr)
[[ "$cdr" == "user:1001,,,caller,487,cancel" ]]; check "CDR of the cancelled call ($cdr)" $?

# 6. A caller whose RTP never comes: the platform ends the call (BYE).
caller call_wait_bye.xml 8585100003; check "RTP timeout: the platform hangs up" $?
cdr=$(last_cdr)
[[ "$cdr" == "queue:general,,,system,200,rtp-timeout" ]]; check "CDR says rtp-timeout ($cdr)" $?

# The server is still well, holds what it held before the calls, and stops cleanly.
kill -0 "$pid" 2>/dev/null; check "serve still running" $?
sleep 0.5 # the media thread closes a session's sockets after its call ends
fds_after=$(ls /proc/"$pid"/fd 2>/dev/null | wc -l)
threads_after=$(awk '/^Threads/{print $2}' /proc/"$pid"/status)
[[ "$fds_after" -eq "$fds_before" ]]; check "open files flat over the calls ($fds_before -> $fds_after)" $?
[[ "$threads_after" -eq "$threads_before" ]]; check "threads flat over the calls ($threads_before -> $threads_after)" $?
kill -TERM "$pid"
for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null
[[ $? -ne 0 ]]; check "serve stops on SIGTERM" $?
pid=""
# Built with the sanitizers (make test), the server reports here what it found.
! grep -q "Sanitizer\|runtime error" "$log"; check "no sanitizer report in the server's log" $?
# 7. `shenggu demo` (what `make run` starts): says what to call, and the call is answered.
dport=$(free_port)
"$bin" demo --sip 127.0.0.1:"$dport" --data "$tmp/demo" --rtp-ports "$((rtp_lo + 20))-$((rtp_lo + 39))" \
    >"$tmp/demo.out" 2>&1 &
dpid=$!
for _ in $(seq 1 50); do grep -q "listening addr=127.0.0.1:$dport" "$tmp/demo.out" && break; sleep 0.1; done
grep -q "sip:8585100001@127.0.0.1:$dport" "$tmp/demo.out"; check "demo prints the number to call" $?
grep -q "1001 / demo-1001" "$tmp/demo.out"; check "demo prints a user to register" $?
timeout 30 sipp -sn uac -s 8585100001 -m 1 -d 2000 -i 127.0.0.1 -p "$(free_port)" -timeout 20 \
    -timeout_error -nostdin 127.0.0.1:"$dport" >"$tmp/demo-sipp.out" 2>&1
check "the demo's IVR number answers a call" $?
kill -TERM "$dpid"; wait "$dpid"
"$bin" cdr --tenant demo --data "$tmp/demo" | grep -q ",ivr:main,"; check "the demo call has its CDR" $?

if [[ $fail -ne 0 ]]; then tail -n 60 "$log"; tail -n 20 "$tmp/caller.out" "$tmp/agent.out" "$tmp/reg.out"; fi
summary calls
