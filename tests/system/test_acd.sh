#!/usr/bin/env bash
# The ACD through the real `shenggu serve` on loopback: SIPp callers from a
# carrier trunk (RTP from SIPp's pcaps) and SIPp agents' phones that
# register, dial feature codes and ring, answer or let it ring:
#   - agents log in (*20), change state (*22, *23NN) and log out (*21);
#   - best skill picks the higher level; wrap-up keeps an agent out for its
#     time, so the next call goes to the other agent;
#   - ring no answer: the call goes back and reaches the other agent, the
#     agent who missed it is not ready ("missed") until *22;
#   - ring all: both phones ring, one answers, the other gets CANCEL;
#   - abandon while waiting and while ringing;
#   - a queue's maximum wait overflows to another queue; a queue without an
#     overflow apologises and hangs up;
#   - kill -9 and restart: the queue_log and the agents' presence survive;
#   - every event checked in `shenggu queue-log` against the calls made.
# Every SIPp run is bounded (-timeout); the server is stopped by PID.
#
# Usage: tests/system/test_acd.sh [BUILD_DIR]      (default build)
set -uo pipefail
cd "$(dirname "$0")/../.."
bin="$(pwd)/${1:-build}/shenggu"
. tests/system/lib.sh

port=$(free_port)
rtp_lo=$((32000 + (port % 100) * 40))
cat >"$tmp/doc.json" <<EOF
{ "version": 1, "tenants": [{
    "id": "acme", "name": "ACME", "domain": "acme.example",
    "trunks": [{ "id": "lo", "from": ["127.0.0.1"] }],
    "pause_reasons": { "2": "break" },
    "numbers": [
      { "number": "100", "route": { "queue": "sales" } },
      { "number": "200", "route": { "queue": "all" } },
      { "number": "300", "route": { "queue": "vip" } },
      { "number": "400", "route": { "queue": "tiny" } }
    ],
    "users": [
      { "id": "1001", "password": "s3cret-1001", "roles": ["agent"], "skills": { "sales": 5 } },
      { "id": "1002", "password": "s3cret-1002", "roles": ["agent"], "skills": { "sales": 2 } },
      { "id": "1003", "password": "s3cret-1003", "roles": ["agent"], "skills": { "support": 3 } },
      { "id": "boss", "password": "s3cret-boss", "roles": ["supervisor"] }
    ],
    "queues": [
      { "id": "sales", "strategy": "best-skill", "skills": { "sales": 1 },
        "wrapup_s": 3, "ring_timeout_s": 3 },
      { "id": "all", "strategy": "ring-all", "ring_timeout_s": 10,
        "members": [{ "user": "1001" }, { "user": "1002" }] },
      { "id": "vip", "max_wait_s": 2, "overflow": { "queue": "general" },
        "members": [{ "user": "1002" }] },
      { "id": "general", "members": [{ "user": "1003" }] },
      { "id": "tiny", "max_wait_s": 2, "members": [{ "user": "1002" }] }
    ]
  }]
}
EOF
start --provision "$tmp/doc.json" --digest-order md5-first --rtp-ports "$rtp_lo-$((rtp_lo + 39))"
check "serve starts" $?

declare -A aport
for u in 1001 1002 1003 boss; do aport[$u]=$(free_port); done

# reg USER: USER's phone registers from its own port.
reg() {
    timeout 30 sipp -sf tests/system/sipp/reg_ok.xml -m 1 -i 127.0.0.1 -p "${aport[$1]}" \
        -key domain acme.example -key user "$1" -au "$1" -ap "s3cret-$1" \
        -timeout 20 -timeout_error -nostdin 127.0.0.1:"$port" >"$tmp/reg-$1.out" 2>&1
}

# code USER CODE: USER dials a feature code from its phone's port.
code() {
    timeout 30 sipp -sf tests/system/sipp/agent_feature.xml -m 1 -i 127.0.0.1 -p "${aport[$1]}" \
        -mp "$(free_port)" -key domain acme.example -key user "$1" -key code "$2" \
        -au "$1" -ap "s3cret-$1" -timeout 25 -timeout_error -nostdin 127.0.0.1:"$port" \
        >"$tmp/code-$1.out" 2>&1
}

# phone USER SCENARIO: USER's phone takes one call in the background (pid in ppid[USER]).
declare -A ppid
phone() {
    timeout 60 sipp -sf "tests/system/sipp/$2" -m 1 -i 127.0.0.1 -p "${aport[$1]}" \
        -mp "$(free_port)" -timeout 50 -timeout_error -nostdin 127.0.0.1:"$port" \
        >"$tmp/phone-$1.out" 2>&1 &
    ppid[$1]=$!
}

# caller SCENARIO NUMBER [ARGS...]: one call from the trunk, in the foreground.
# The queue answers at once (music), so call_talk's -d counts from there.
caller() {
    local sf="$1" number="$2"
    shift 2
    timeout 60 sipp -sf "tests/system/sipp/$sf" -m 1 -i 127.0.0.1 -p "$(free_port)" \
        -mp "$(free_port)" -key number "$number" -timeout 40 -timeout_error -nostdin \
        "$@" 127.0.0.1:"$port" >"$tmp/caller.out" 2>&1
}

qlog() { "$bin" queue-log --tenant acme --data "$tmp/var"; }
# events: the queue_log as "queue|agent|event" lines (no times, no call ids).
events() { qlog | cut -d'|' -f3-5; }
# wait_event PATTERN: until a line of the queue_log matches (bounded).
wait_event() {
    for _ in $(seq 1 50); do
        qlog | grep -qE "$1" && return 0
        sleep 0.1
    done
    return 1
}
# count PATTERN: lines of the queue_log that match.
count() { qlog | grep -cE "$1"; }

# 1. Agents register and log in; a supervisor is no agent of any queue.
for u in 1001 1002 1003 boss; do reg "$u"; check "$u registers" $?; done
for u in 1001 1002 1003; do code "$u" '*20'; check "$u dials *20" $?; done
wait_event '\|1003\|AGENTLOGIN\|SIP/1003$'; check "AGENTLOGIN of 1003" $?
[[ $(count '\|NONE\|(1001|1002|1003)\|AGENTLOGIN\|') -eq 3 ]]; check "three AGENTLOGIN lines" $?
code boss '*20'; check "boss dials *20 (answered, told no)" $?
grep -q "agent=boss code=\*20: You are not an agent of any queue" "$log"; check "boss is told no" $?
[[ $(count '\|boss\|') -eq 0 ]]; check "nothing logged for boss" $?
code 1003 '*237'; check "an unknown reason is answered" $?
grep -q "code=\*237: Reason 7 is not one of your reasons" "$log"; check "unknown reason refused" $?

# 2. Best skill: 1001 (sales 5) before 1002 (sales 2); 1003 has no sales.
phone 1001 agent_answer.xml
sleep 0.3
caller call_talk.xml 100 -d 2000; check "call to sales" $?
wait "${ppid[1001]}"; check "1001 answered it" $?
wait_event 'sales\|1001\|COMPLETECALLER\|'; check "CONNECT and COMPLETECALLER by 1001" $?
[[ $(count 'sales\|1001\|CONNECT\|') -eq 1 ]]; check "one CONNECT by 1001" $?

# 3. Wrap-up (3 s): the next call at once goes to 1002.
phone 1002 agent_hangup.xml
sleep 0.3
caller call_wait_bye.xml 100; check "second call to sales: the agent hangs up" $?
wait "${ppid[1002]}"; check "1002 answered and hung up" $?
wait_event 'sales\|1002\|COMPLETEAGENT\|'; check "COMPLETEAGENT by 1002" $?
wait_event 'sales\|1001\|WRAPUPEND\|3$'; check "1001's wrap-up ended after 3 s" $?

# 4. Ring no answer: 1001 rings 3 s and misses it, 1002 takes it.
sleep 3.5 # 1002's wrap-up
phone 1001 agent_ring.xml
phone 1002 agent_answer.xml
sleep 0.3
caller call_talk.xml 100 -d 6000; check "third call to sales" $?
wait "${ppid[1001]}"; check "1001's phone rang and got CANCEL" $?
wait "${ppid[1002]}"; check "1002 answered after the miss" $?
wait_event 'sales\|1001\|RINGNOANSWER\|[0-9]+$'; check "RINGNOANSWER of 1001" $?
wait_event 'NONE\|1001\|PAUSEALL\|missed$'; check "1001 not ready: missed" $?
[[ $(count 'sales\|1002\|CONNECT\|') -eq 2 ]]; check "the call reached 1002" $?

# 5. Abandon while waiting: 1001 missed, 1002 on break, 1003 not in sales.
code 1002 '*232'; check "1002 on break (*232)" $?
wait_event 'NONE\|1002\|PAUSEALL\|break$'; check "PAUSEALL break" $?
caller call_talk.xml 100 -d 1500; check "a caller waits and hangs up" $?
wait_event 'sales\|NONE\|ABANDON\|1\|1\|[12]$'; check "ABANDON at position 1" $?

# 6. Ring all: both members ring, 1002 answers, 1001's phone gets CANCEL.
code 1001 '*22'; check "1001 ready again (*22)" $?
code 1002 '*22'; check "1002 ready again" $?
wait_event 'NONE\|1002\|UNPAUSEALL\|$'; check "UNPAUSEALL" $?
phone 1001 agent_ring.xml
phone 1002 agent_answer.xml
sleep 0.3
caller call_talk.xml 200 -d 3000; check "call to ring-all" $?
wait "${ppid[1001]}"; check "1001's phone was cancelled" $?
wait "${ppid[1002]}"; check "1002 answered" $?
wait_event 'all\|1002\|COMPLETECALLER\|'; check "ring all: CONNECT and COMPLETE by 1002" $?
[[ $(count 'all\|1001\|RINGNOANSWER') -eq 0 ]]; check "no RINGNOANSWER for the loser" $?

# 7. Abandon while ringing: the caller hangs up while 1001 rings.
phone 1001 agent_ring.xml
sleep 3.5 # wrap-ups
code 1002 '*23'; check "1002 not ready" $?
sleep 0.3
caller call_talk.xml 100 -d 1500; check "caller hangs up while it rings" $?
wait "${ppid[1001]}"; check "the ringing phone got CANCEL" $?
[[ $(count 'sales\|NONE\|ABANDON\|') -eq 2 ]]; check "second ABANDON" $?

# 8. Overflow: vip (1002 not ready) waits 2 s, moves to general, 1003 answers.
phone 1003 agent_answer.xml
sleep 0.3
caller call_talk.xml 300 -d 4000; check "call to vip" $?
wait "${ppid[1003]}"; check "1003 answered in general" $?
wait_event 'vip\|NONE\|EXITWITHTIMEOUT\|1\|1\|2$'; check "EXITWITHTIMEOUT from vip" $?
wait_event 'general\|NONE\|ENTERQUEUE\|\|5551234\|1$'; check "ENTERQUEUE general" $?
wait_event 'general\|1003\|COMPLETECALLER\|'; check "1003 completed it" $?

# 9. No overflow: tiny apologises and hangs up after 2 s.
caller call_wait_bye.xml 400; check "tiny: the platform hangs up" $?
wait_event 'tiny\|NONE\|EXITWITHTIMEOUT\|'; check "EXITWITHTIMEOUT from tiny" $?

# 10. kill -9: the queue_log and who is logged in survive.
n_before=$(qlog | wc -l)
kill -9 "$pid"
wait "$pid" 2>/dev/null
start --digest-order md5-first --rtp-ports "$rtp_lo-$((rtp_lo + 39))"
check "serve restarts" $?
[[ $(qlog | wc -l) -eq $n_before ]]; check "queue_log intact ($n_before lines)" $?
phone 1003 agent_answer.xml
sleep 0.3
caller call_talk.xml 300 -d 5000; check "after the restart 1003 takes a call without logging in" $?
wait "${ppid[1003]}"; check "1003 answered" $?

# 11. Log out.
code 1003 '*21'; check "1003 dials *21" $?
wait_event 'NONE\|1003\|AGENTLOGOFF\|SIP/1003\|[0-9]+$'; check "AGENTLOGOFF with its login time" $?

# 12. Metrics replayed from the log match the calls made: sales 5 offered
# (3 answered, 2 abandoned), vip 2 timed out to general (both answered),
# tiny 1 timed out; 1003 logged out, 1001 missed one offer.
"$bin" metrics --tenant acme --data "$tmp/var" >"$tmp/metrics.json"
check "shenggu metrics" $?
m() { python3 -c "import json,sys; d=json.load(open('$tmp/metrics.json')); print($1)"; }
[[ "$(m "[d['queues']['sales']['total'][k] for k in ('offered','answered','abandoned')]")" == "[5, 3, 2]" ]]
check "sales: offered 5, answered 3, abandoned 2 ($(m "d['queues']['sales']['total']"))" $?
[[ "$(m "[d['queues']['vip']['total'][k] for k in ('offered','exit_timeout')]")" == "[2, 2]" ]]
check "vip: 2 offered, 2 timed out" $?
[[ "$(m "d['queues']['general']['total']['answered']")" == 2 ]]; check "general: 2 answered" $?
[[ "$(m "d['queues']['tiny']['total']['exit_timeout']")" == 1 ]]; check "tiny: 1 timed out" $?
[[ "$(m "d['agents']['1003']['state']")" == logged_out ]]; check "1003 logged out" $?
[[ "$(m "d['agents']['1001']['total']['not_ready_by_reason'].get('missed', 0) > 0")" == True ]]
check "1001 was not ready for missing a call" $?
# The same figures again from a second replay: the log alone decides them.
at=$(m "d['at']")
"$bin" metrics --tenant acme --data "$tmp/var" --at "$at" | cmp -s - "$tmp/metrics.json"
check "a replay at the same time gives the same report" $?

# The log is Asterisk's: every line has its 10 fields at most, an epoch first.
bad=$(qlog | awk -F'|' '$1 !~ /^[0-9]+$/ || NF < 5 || NF > 10' | head -3)
[[ -z "$bad" ]]; check "every line well formed ($bad)" $?
[[ $fail -eq 0 ]] || { events; tail -n 30 "$log"; }
summary acd
