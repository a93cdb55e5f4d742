#!/usr/bin/env bash
# Call recording through the real `shenggu serve` on loopback, with SIPp as
# the caller (a carrier trunk) and as the agent's phone, both sending audio
# (G.711 A-law from SIPp's g711a.pcap):
#   - a tenant with "recording": "all": an IVR call connected to the agent
#     leaves <data>/recordings/acme/YYYY/MM/DD/<uuid>.wav, stereo 8 kHz,
#     with audio on both channels (the caller left, the agent right); its
#     metadata row (size and SHA-256 of the file) and the CDR's recording
#     column name it;
#   - a tenant recording {"queues": ["sales"]}: a call to another queue
#     leaves no file, a call to sales does;
#   - a call during which the server is killed with kill -9: the file is
#     left with placeholder sizes; the next start repairs it (Python's wave
#     module reads it, sizes agree) and indexes it, and says so; the start
#     after that finds nothing to do;
#   - SIGTERM during a recorded call: the file is closed and its row stored
#     before the server exits.
# Every SIPp run is bounded (-timeout); processes are stopped by PID.
#
# Usage: tests/system/test_recording.sh [BUILD_DIR]      (default build)
set -uo pipefail
cd "$(dirname "$0")/../.."
bin="$(pwd)/${1:-build}/shenggu"
. tests/system/lib.sh

port=$(free_port)
agent_port=$(free_port)
rtp_lo=$((40000 + (port % 100) * 40))
db="$tmp/var/shenggu.db"
cat >"$tmp/doc.json" <<EOF
{ "version": 1, "tenants": [{
    "id": "acme", "name": "ACME", "domain": "acme.example", "recording": "all",
    "trunks": [{ "id": "lo", "from": ["127.0.0.1"] }],
    "numbers": [
      { "number": "8585100001", "route": { "ivr": "simple" } },
      { "number": "8585100003", "route": { "queue": "general" } }
    ],
    "users": [{ "id": "1001", "password": "s3cret-1001", "roles": ["agent"] },
              { "id": "sup", "password": "super-pass-0001", "roles": ["supervisor"] }],
    "queues": [{ "id": "general" }],
    "ivr": [{ "id": "simple", "prompt": { "tts": "For sales press 1." },
              "options": { "1": { "user": "1001" } },
              "timeout": { "hangup": true }, "timeout_s": 8 }]
  }, {
    "id": "globex", "name": "Globex", "domain": "globex.example",
    "recording": { "queues": ["sales"] },
    "trunks": [{ "id": "lo", "from": ["127.0.0.1"] }],
    "numbers": [
      { "number": "8585200001", "route": { "queue": "support" } },
      { "number": "8585200002", "route": { "queue": "sales" } }
    ],
    "queues": [{ "id": "support" }, { "id": "sales" }]
  }]
}
EOF

# WAV checks with Python's own reader (not our parser):
#   audio FILE MIN_RMS   stereo, 8000 Hz, 16-bit; both channels' RMS >= MIN_RMS
#   whole FILE           nframes > 0 and the RIFF and data sizes agree with the file
#   unfinished FILE      the RIFF size does not match the file (a writer cut short)
cat >"$tmp/wav.py" <<'EOF'
import array, math, os, struct, sys, wave
mode, path = sys.argv[1], sys.argv[2]
size = os.path.getsize(path)
with open(path, "rb") as f:
    head = f.read(44)
riff = struct.unpack_from("<I", head, 4)[0]
if mode == "unfinished":
    sys.exit(0 if riff + 8 != size else 1)
w = wave.open(path)
if mode == "whole":
    data = struct.unpack_from("<I", head, 40)[0]
    ok = (w.getnframes() > 0 and riff + 8 == size and data == size - 44
          and w.getnframes() * 4 == data)
    print("nframes=%d size=%d riff=%d data=%d" % (w.getnframes(), size, riff, data))
    sys.exit(0 if ok else 1)
s = array.array("h", w.readframes(w.getnframes()))
rms = lambda x: math.sqrt(sum(v * v for v in x) / len(x)) if len(x) else 0.0
left, right = rms(s[0::2]), rms(s[1::2])
print("channels=%d rate=%d width=%d frames=%d rms_left=%.0f rms_right=%.0f" %
      (w.getnchannels(), w.getframerate(), w.getsampwidth(), w.getnframes(), left, right))
ok = (w.getnchannels() == 2 and w.getframerate() == 8000 and w.getsampwidth() == 2
      and left >= float(sys.argv[3]) and right >= float(sys.argv[3]))
sys.exit(0 if ok else 1)
EOF
wav() { python3 "$tmp/wav.py" "$@"; }
q() { sqlite3 -batch "$db" "$1"; }

# Wait (bounded) until query $1 gives $2: a CDR is committed just after the
# caller's BYE is answered.
wait_q() {
    for _ in $(seq 1 50); do
        [[ "$(q "$1")" == "$2" ]] && return 0
        sleep 0.1
    done
    return 1
}

# The .wav files of tenant $1, one per line, sorted.
recordings() { find "$tmp/var/recordings/$1" -name '*.wav' 2>/dev/null | sort; }

# Wait (bounded) until the metadata row of recording $1 (relative path) exists.
wait_row() {
    for _ in $(seq 1 50); do
        [[ -n "$(q "SELECT 1 FROM recordings WHERE path = '$1'")" ]] && return 0
        sleep 0.1
    done
    return 1
}

# caller SCENARIO NUMBER [ARGS...]: one call from 127.0.0.1 to NUMBER.
caller() {
    local sf="$1" number="$2"
    shift 2
    timeout 60 sipp -sf "tests/system/sipp/$sf" -m 1 -i 127.0.0.1 -p "$(free_port)" \
        -mp "$(free_port)" -key number "$number" -timeout 30 -timeout_error -nostdin \
        "$@" 127.0.0.1:"$port" >"$tmp/caller.out" 2>&1
}

# Stop the server by PID with SIGTERM and wait (bounded) for it.
stop() {
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    ! kill -0 "$pid" 2>/dev/null
    local rc=$?
    pid=""
    return $rc
}

hport=$port
while [[ "$hport" == "$port" ]]; do
    hport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
done
start --provision "$tmp/doc.json" --digest-order md5-first --rtp-ports "$rtp_lo-$((rtp_lo + 39))" --rtp-timeout 8 \
    --http "127.0.0.1:$hport"
check "serve starts" $?

# 1. acme records every call: IVR, key 1, the agent answers, both talk.
timeout 60 sipp -sf tests/system/sipp/reg_ok.xml -m 1 -i 127.0.0.1 -p "$agent_port" \
    -key domain acme.example -key user 1001 -au 1001 -ap s3cret-1001 \
    -timeout 20 -timeout_error -nostdin 127.0.0.1:"$port" >"$tmp/reg.out" 2>&1
check "the agent registers" $?
timeout 60 sipp -sf tests/system/sipp/agent_answer.xml -m 1 -i 127.0.0.1 -p "$agent_port" \
    -mp "$(free_port)" -timeout 40 -timeout_error -nostdin 127.0.0.1:"$port" \
    >"$tmp/agent.out" 2>&1 &
apid=$!
sleep 0.5
caller call_ivr.xml 8585100001; check "IVR call to the agent" $?
wait "$apid"; check "the agent answered and talked" $?

mapfile -t files < <(recordings acme)
[[ ${#files[@]} -eq 1 ]]; check "one recording of the call (${#files[@]})" $?
f1="${files[0]:-none}"
rel1="${f1#"$tmp/var/"}"
uuid1=$(basename "$f1" .wav)
[[ "$rel1" =~ ^recordings/acme/[0-9]{4}/[0-9]{2}/[0-9]{2}/[0-9a-f]{32}\.wav$ ]]
check "recording path layout ($rel1)" $?
[[ "$(stat -c %a "$(dirname "$f1")")" == 750 && "$(stat -c %a "$f1")" == 600 ]]
check "folders 0750, file 0600" $?
wait_row "$rel1"; check "metadata row stored" $?
wav audio "$f1" 200 >"$tmp/wav.out"; check "stereo 8 kHz, audio on both channels ($(cat "$tmp/wav.out"))" $?
row=$(q "SELECT tenant_id, call_uuid, bytes, sha256, duration_ms > 1000 FROM recordings WHERE path = '$rel1'")
[[ "$row" == "acme|$uuid1|$(stat -c %s "$f1")|$(sha256sum "$f1" | cut -d' ' -f1)|1" ]]
check "row: tenant, uuid, size and SHA-256 of the file ($row)" $?
[[ "$(q "SELECT recording FROM cdrs WHERE uuid = '$uuid1'")" == "$rel1" ]]
check "the CDR names the recording" $?

# The recording through the API: metadata and the file, whole and by Range.
api="http://127.0.0.1:$hport/api/v1/tenants/acme/recordings/$uuid1"
tok=$(curl -s --max-time 10 -X POST "http://127.0.0.1:$hport/api/v1/login" \
    --data-binary '{"tenant":"acme","user":"sup","password":"super-pass-0001"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin).get("token",""))')
auth=(-H "Authorization: Bearer $tok")
curl -s --max-time 10 "${auth[@]}" "$api" | python3 -c '
import json, sys
r = json.load(sys.stdin)["items"][0]
assert r["path"] == sys.argv[1] and r["bytes"] == int(sys.argv[2]) and r["duration_ms"] > 1000, r' \
    "$rel1" "$(stat -c %s "$f1")"
check "API: the call's recording metadata" $?
curl -s --max-time 10 "${auth[@]}" -o "$tmp/dl.wav" "$api/audio"
cmp -s "$tmp/dl.wav" "$f1"; check "API: the file downloads whole" $?
code=$(curl -s --max-time 10 "${auth[@]}" -H 'Range: bytes=0-43' -D "$tmp/dl.h" -o "$tmp/dl.part" -w '%{http_code}' "$api/audio")
[[ "$code" == 206 ]] && cmp -s "$tmp/dl.part" <(head -c 44 "$f1") &&
    grep -qi "^content-range: bytes 0-43/$(stat -c %s "$f1")" "$tmp/dl.h"
check "API: Range gives 206, the bytes and Content-Range" $?
curl -s --max-time 10 "${auth[@]}" -H 'Range: bytes=-100' -o "$tmp/dl.part" "$api/audio"
cmp -s "$tmp/dl.part" <(tail -c 100 "$f1"); check "API: a suffix range" $?
code=$(curl -s --max-time 10 "${auth[@]}" -H 'Range: bytes=99999999-' -o /dev/null -w '%{http_code}' "$api/audio")
[[ "$code" == 416 ]]; check "API: 416 past the end" $?

# 2. globex records the calls that reach queue sales only.
caller call_talk.xml 8585200001 -d 1500; check "call to globex support" $?
[[ -z "$(recordings globex)" ]]; check "not recorded (support is not listed)" $?
wait_q "SELECT count(*) FROM cdrs WHERE tenant_id = 'globex' AND recording = ''" 1
check "its CDR names no recording" $?
caller call_talk.xml 8585200002 -d 1500; check "call to globex sales" $?
mapfile -t files < <(recordings globex)
[[ ${#files[@]} -eq 1 ]]; check "recorded (sales is listed)" $?
wait_row "${files[0]#"$tmp/var/"}"; check "its metadata row" $?

# 3. kill -9 during a recorded call; the next start repairs and indexes it.
timeout 60 sipp -sf tests/system/sipp/call_talk.xml -m 1 -i 127.0.0.1 -p "$(free_port)" \
    -mp "$(free_port)" -key number 8585100003 -d 30000 -timeout 40 -nostdin \
    127.0.0.1:"$port" >"$tmp/killed.out" 2>&1 &
cpid=$!
f2=""
for _ in $(seq 1 100); do
    f2=$(recordings acme | grep -v "$uuid1" | head -1)
    # Two seconds of audio written (16000 frames of 4 bytes after the header).
    [[ -n "$f2" && $(stat -c %s "$f2") -gt 64044 ]] && break
    sleep 0.1
done
[[ -n "$f2" && $(stat -c %s "$f2") -gt 64044 ]]; check "the call records (${f2:+$(stat -c %s "$f2")} bytes)" $?
kill -9 "$pid"; wait "$pid" 2>/dev/null
pid=""
kill "$cpid" 2>/dev/null; wait "$cpid" 2>/dev/null
f2="${f2:-none}"
rel2="${f2#"$tmp/var/"}"
wav unfinished "$f2"; check "killed: the file still has placeholder sizes" $?
[[ -z "$(q "SELECT 1 FROM recordings WHERE path = '$rel2'")" ]]; check "killed: no row yet" $?

start --rtp-ports "$rtp_lo-$((rtp_lo + 39))"; check "serve restarts on the same data" $?
grep -q "recordings repaired=1 indexed=1 failed=0" "$log"; check "start-up says: repaired=1 indexed=1" $?
wav whole "$f2" >"$tmp/wav.out"; check "repaired: wave reads it, sizes agree ($(cat "$tmp/wav.out"))" $?
row=$(q "SELECT tenant_id, call_uuid, bytes, sha256, duration_ms > 1500 FROM recordings WHERE path = '$rel2'")
[[ "$row" == "acme|$(basename "$f2" .wav)|$(stat -c %s "$f2")|$(sha256sum "$f2" | cut -d' ' -f1)|1" ]]
check "indexed: tenant, uuid, size and SHA-256 ($row)" $?
stop; check "serve stops on SIGTERM" $?
start --rtp-ports "$rtp_lo-$((rtp_lo + 39))"; check "serve starts again" $?
grep -q "recordings repaired=0 indexed=0 failed=0 files=3" "$log"; check "nothing left to repair or index" $?

# 4. SIGTERM during a recorded call: the call ends, and the server waits for
# its recording to close so that the row is there before the next start.
timeout 60 sipp -sf tests/system/sipp/call_talk.xml -m 1 -i 127.0.0.1 -p "$(free_port)" \
    -mp "$(free_port)" -key number 8585100003 -d 30000 -timeout 40 -nostdin \
    127.0.0.1:"$port" >"$tmp/stopped.out" 2>&1 &
cpid=$!
f3=""
for _ in $(seq 1 100); do
    f3=$(recordings acme | grep -v "$uuid1" | grep -v "$(basename "$f2")" | head -1)
    [[ -n "$f3" && $(stat -c %s "$f3") -gt 8044 ]] && break
    sleep 0.1
done
[[ -n "$f3" ]]; check "a third call records" $?
stop; check "serve stops again, during the call" $?
kill "$cpid" 2>/dev/null; wait "$cpid" 2>/dev/null
f3="${f3:-none}"
wav whole "$f3" >"$tmp/wav.out"; check "closed cleanly at shutdown ($(cat "$tmp/wav.out"))" $?
row=$(q "SELECT bytes, sha256 FROM recordings WHERE path = '${f3#"$tmp/var/"}'")
[[ "$row" == "$(stat -c %s "$f3")|$(sha256sum "$f3" | cut -d' ' -f1)" ]]
check "its row was stored before the server exited ($row)" $?

# Built with the sanitizers (make test), the server reports here what it found.
! grep -q "Sanitizer\|runtime error" "$tmp"/serve-*.log; check "no sanitizer report in the server's logs" $?
if [[ $fail -ne 0 ]]; then
    tail -n 40 "$tmp"/serve-*.log
    tail -n 20 "$tmp/caller.out" "$tmp/agent.out" "$tmp/reg.out" "$tmp/killed.out" "$tmp/stopped.out"
fi
summary recording
