#!/usr/bin/env bash
# A real call between two real softphones through `shenggu serve`, on
# loopback: baresip 1.0.0 (Debian `baresip-core`) as the agent's phone and
# as the caller, the server anchoring the media in between.
#
#   - the agent: registers 1001@acme.example (digest auth, MD5: libre 1.1.0
#     knows no other algorithm), answers by itself (answermode=auto) and
#     sends a 1 kHz tone (aufile module: a WAVE made here);
#   - the caller: a carrier trunk (127.0.0.1 is on acme's trunk list), no
#     registration; dials the number routed to the IVR, listens to the TTS
#     prompt, presses 1 (RFC 4733 telephone-event, baresip's own), is put
#     through to the agent, sends a 440 Hz tone for a few seconds, hangs up.
#
# Each baresip has its own config folder (-f), ports and the modules it
# needs: stdio + menu (commands on stdin, a FIFO held open by the test),
# account, g711, aufile (audio source) and sndfile (an audio filter that
# writes what is sent and received to dump-*-enc.wav and dump-*-dec.wav in
# snd_path: the recordings). No audio player: the received audio is
# decoded, and so recorded, all the same.
#
# Checked: the caller heard the prompt (speech-like energy for at least
# 0.8 s in the first seconds), then the agent's 1 kHz tone; the agent heard
# the caller's 440 Hz tone; the CDR (`shenggu cdr`) has the IVR route, the
# path through menu:1 and agent 1001. Every wait is bounded and polls; every
# process is stopped by PID; on failure the server's and both baresips'
# output is shown.
#
# Usage: tests/system/test_baresip_calls.sh [BUILD_DIR]      (default build)
set -uo pipefail
cd "$(dirname "$0")/../.."
bin="$(pwd)/${1:-build}/shenggu"
. tests/system/lib.sh
agent_pid=""
caller_pid=""

cleanup() {
    [[ -n "$agent_pid" ]] && kill -9 "$agent_pid" 2>/dev/null
    [[ -n "$caller_pid" ]] && kill -9 "$caller_pid" 2>/dev/null
    lib_cleanup
}
trap cleanup EXIT
# A command to a baresip that has died must fail, not kill the test.
trap '' PIPE
send() { { printf '%s' "$2" >&"$1"; } 2>/dev/null; } # send FD TEXT: to a baresip's FIFO

# until_ok TENTHS COMMAND... -> 0 as soon as COMMAND succeeds, 1 after TENTHS/10 s
until_ok() {
    local n="$1"
    shift
    for _ in $(seq 1 "$n"); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

diagnostics() { # the tails of the server's log and of each baresip's output
    echo "--- server log (tail)"
    tail -n 40 "$log"
    for who in agent caller; do
        echo "--- $who baresip (tail, SIP trace included)"
        [[ -f "$tmp/$who.out" ]] && sed 's/\x1b\[[0-9;]*m//g' "$tmp/$who.out" | tail -n 50
    done
}

port=$(free_port)
rtp_lo=$((30000 + (port % 100) * 40))
cat >"$tmp/doc.json" <<EOF
{ "version": 1, "tenants": [{
    "id": "acme", "name": "ACME", "domain": "acme.example",
    "trunks": [{ "id": "lo", "from": ["127.0.0.1"] }],
    "numbers": [{ "number": "8585100001", "route": { "ivr": "simple" } }],
    "users": [{ "id": "1001", "password": "s3cret-1001", "roles": ["agent"] }],
    "ivr": [{ "id": "simple", "prompt": { "tts": "For sales press 1." },
              "options": { "1": { "user": "1001" } },
              "timeout": { "hangup": true }, "timeout_s": 8 }]
  }]
}
EOF
start --provision "$tmp/doc.json" --digest-order md5-only --rtp-ports "$rtp_lo-$((rtp_lo + 39))" --rtp-timeout 10
check "serve starts" $?

# tone FILE HZ: 30 s of a sine at 8 kHz, mono, 16-bit (aufile wants the
# codec's rate and channels, and reads the whole file at the start).
tone() {
    python3 - "$@" <<'EOF'
import math, struct, sys, wave
path, hz = sys.argv[1], float(sys.argv[2])
with wave.open(path, "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
    w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * hz * i / 8000)))
                           for i in range(30 * 8000)))
EOF
}

# baresip_conf NAME WAV RTP_PORTS ACCOUNT: the config folder $tmp/NAME (its
# recordings in $tmp/NAME/rec) and the FIFO $tmp/NAME.in for its commands.
# RTP ports of its own, outside the server's range.
baresip_conf() {
    local name="$1" wav="$2" rtp="$3" account="$4"
    mkdir -p "$tmp/$name/rec"
    cat >"$tmp/$name/config" <<EOF
sip_listen		127.0.0.1:$(free_port)
net_interface		127.0.0.1
rtp_ports		$rtp
audio_source		aufile,$wav
audio_player		none,none
audio_alert		none,none
statmode_default	off
module_path		/usr/lib/baresip/modules
module			stdio.so
module			g711.so
module			aufile.so
module			sndfile.so
module_app		account.so
module_app		menu.so
snd_path		$tmp/$name/rec
EOF
    echo "$account" >"$tmp/$name/accounts"
    mkfifo "$tmp/$name.in"
}

# seen WHO TEXT: baresip WHO ($tmp/WHO.out) has printed TEXT
seen() { grep -aq "$2" "$tmp/$1.out"; }
# dec_wav WHO: the recording of what WHO received (sndfile's dump-*-dec.wav)
dec_wav() {
    local f
    for f in "$tmp/$1/rec/"dump-*-dec.wav; do [[ -f "$f" ]] && echo "$f" && return 0; done
    return 1
}

# stop_baresip PID FD: /quit on its FIFO, then wait (bounded) for it to
# exit; killed if it does not
running() { kill -0 "$1" 2>/dev/null; }
stop_baresip() {
    send "$2" $'/quit\n'
    for _ in $(seq 1 50); do running "$1" || break; sleep 0.1; done
    running "$1" && kill -9 "$1"
    wait "$1" 2>/dev/null
}

tone "$tmp/1k.wav" 1000
tone "$tmp/440.wav" 440

# The agent's phone: registers (digest, MD5), answers by itself, says 1 kHz.
baresip_conf agent "$tmp/1k.wav" "$((rtp_lo + 4000))-$((rtp_lo + 4019))" \
    "<sip:1001@acme.example;transport=udp>;auth_pass=s3cret-1001;outbound=\"sip:127.0.0.1:$port\";regint=600;answermode=auto;audio_codecs=pcma,pcmu"
baresip -f "$tmp/agent" -s <"$tmp/agent.in" >"$tmp/agent.out" 2>&1 &
agent_pid=$!
exec 3>"$tmp/agent.in" # held open: baresip reads its commands from here
until_ok 100 seen agent 'registered successfully'
check "the agent's baresip registers 1001@acme.example" $?

# The caller: a carrier on acme's trunk, no registration, says 440 Hz.
baresip_conf caller "$tmp/440.wav" "$((rtp_lo + 4020))-$((rtp_lo + 4039))" \
    "<sip:5551234@carrier.example;transport=udp>;regint=0;outbound=\"sip:127.0.0.1:$port\";audio_codecs=pcma,pcmu"
baresip -f "$tmp/caller" -s <"$tmp/caller.in" >"$tmp/caller.out" 2>&1 &
caller_pid=$!
exec 4>"$tmp/caller.in"
until_ok 100 seen caller 'baresip is ready'
check "the caller's baresip starts" $?

# The call: the IVR answers and plays its prompt (1.3 s of speech; a key
# cuts it short, so the caller listens: once 1 s of it has come, 1.5 s
# more), then presses 1.
send 4 "/dial sip:8585100001@127.0.0.1:$port"$'\n'
until_ok 150 seen caller 'Call established'
check "the IVR answers the caller" $?
heard_1s() { # sndfile writes as it decodes: 8000 samples of 2 bytes
    local f
    f=$(dec_wav caller) && [[ $(stat -c %s "$f") -ge $((44 + 16000)) ]]
}
until_ok 100 heard_1s
check "the caller hears the IVR's prompt (RTP)" $?
sleep 1.5
send 4 1
until_ok 100 seen agent 'Call established'
check "key 1 puts the caller through to the agent, whose baresip answers" $?
connected() { grep -q 'call connected .* agent=1001' "$log"; }
until_ok 30 connected
check "the server connected the call to agent 1001" $?
sleep 3 # the talk
send 4 $'/hangup\n'
until_ok 50 seen agent 'terminated'
check "the caller hangs up, the agent's phone gets the BYE" $?
until_ok 50 seen caller 'terminated'
check "the caller's call ends" $?
stop_baresip "$caller_pid" 4
caller_pid=""
stop_baresip "$agent_pid" 3
agent_pid=""
exec 3>&- 4>&-

# What each heard: sndfile's dump-*-dec.wav (decoded, as received; time
# with no RTP, such as the IVR waiting for a key, takes no room in it).
# In 100 ms windows: "speech" is sound (RMS > 150) that is not the tone,
# "tone" a window whose energy is at least 80 % at HZ (Goertzel at HZ
# against the window's energy); the dominant frequency by a plain DFT
# (10 Hz steps) of one window in the middle of the tone.
heard() { # heard WHO HZ -> "secs speech_s_in_first_3s last_speech_s tone_s first_tone_s peak_hz"
    local f
    f=$(dec_wav "$1") || { echo "0 0 0 0 0 0"; return; }
    python3 - "$f" "$2" <<'EOF'
import math, struct, sys, wave
w = wave.open(sys.argv[1]); hz = float(sys.argv[2]); rate = w.getframerate()
x = struct.unpack("<%dh" % (w.getnframes() * w.getnchannels()), w.readframes(w.getnframes()))
x = x[::w.getnchannels()]
n = rate // 10
def power_at(win, f):  # Goertzel: |X(f)|^2 scaled so a pure sine gives its energy
    k = 2 * math.cos(2 * math.pi * f / rate); s1 = s2 = 0.0
    for v in win:
        s1, s2 = v + k * s1 - s2, s1
    return 2 * (s1 * s1 + s2 * s2 - k * s1 * s2) / len(win)
speech, tone, last_speech = 0, [], 0.0
for i in range(0, len(x) - n + 1, n):
    win = x[i:i + n]
    energy = sum(v * v for v in win) or 1
    frac = power_at(win, hz) / energy
    if frac >= 0.8 and energy / n > 1000 ** 2:
        tone.append(i)
    elif math.sqrt(energy / n) > 150:
        if i < 3 * rate:
            speech += 1
        last_speech = (i + n) / rate
peak = 0
if tone:
    mid = x[tone[len(tone) // 2]:tone[len(tone) // 2] + n]
    peak = max(range(50, 4000, 10), key=lambda f: power_at(mid, f))
print("%.2f %.1f %.1f %.1f %.1f %d" % (len(x) / rate, speech / 10, last_speech,
      len(tone) / 10, tone[0] / rate if tone else 0, peak))
EOF
}
read -r c_secs c_speech c_last_speech c_tone c_first_tone c_peak < <(heard caller 1000)
read -r a_secs _ _ a_tone _ a_peak < <(heard agent 440)
echo "    caller heard ${c_secs} s: prompt ${c_speech} s (to ${c_last_speech} s), then ${c_tone} s of tone from ${c_first_tone} s, peak ${c_peak} Hz"
echo "    agent heard ${a_secs} s: ${a_tone} s of tone, peak ${a_peak} Hz"
ge() { python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)" "$1" "$2"; }
near() { python3 -c "import sys; sys.exit(0 if abs(float(sys.argv[1]) - float(sys.argv[2])) <= 20 else 1)" "$1" "$2"; }
ge "$c_speech" 0.8
check "the caller heard the IVR prompt (>= 0.8 s of speech in the first 3 s)" $?
ge "$c_tone" 2 && near "$c_peak" 1000
check "the caller then heard the agent's 1 kHz tone (>= 2 s, peak near 1000 Hz)" $?
ge "$c_first_tone" "$c_last_speech"
check "the prompt came before the agent's voice" $?
ge "$a_tone" 2 && near "$a_peak" 440
check "the agent heard the caller's 440 Hz tone (>= 2 s, peak near 440 Hz)" $?

# The CDR: route, IVR path through menu:1, agent, who hung up, status, cause.
cdr=$(new_cdr acme |
    awk -F, '{print $4 "," $5 "," $6 "," $12 "," $13 "," $14}' | tr -d '\r"')
[[ "$cdr" == "ivr:simple,simple>menu:1>user:1001,1001,caller,200,normal" ]]
check "CDR: IVR route, path through menu:1, agent 1001 ($cdr)" $?

kill -TERM "$pid"
for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$pid" 2>/dev/null; st=$?
check "serve stops on SIGTERM" $st
[[ $st -eq 0 ]] && pid="" # else lib.sh's cleanup kills it
! grep -q "Sanitizer\|runtime error" "$log"; check "no sanitizer report in the server's log" $?
[[ $fail -eq 0 ]] || diagnostics
summary baresip-calls
