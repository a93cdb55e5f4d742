#!/usr/bin/env bash
# shenggu serve as the platform runs it: starts on a free loopback port,
# answers real SIPp OPTIONS probes and answers a stranger's INVITE to an unknown number 404, survives
# garbage datagrams, keeps its open files flat across the run, stops cleanly
# on SIGTERM, and refuses a port in use or a bad option with a clear error.
# Every process is started here and stopped by PID; all traffic is loopback.
#
# Usage: tests/system/test_serve.sh BUILD_DIR
set -uo pipefail
cd "$(dirname "$0")/../.."
bin="$(pwd)/$1/shenggu"
here=tests/system
. tests/system/lib.sh

sipp_run() { # sipp_run SCENARIO PORT COUNT -> exit status of sipp
    timeout 30 sipp -sf "$here/sipp/$1" -m "$3" -r 50 -i 127.0.0.1 -p "$(free_port)" \
        -timeout 10 -timeout_error -nostdin 127.0.0.1:"$2" \
        >"$tmp/sipp.out" 2>&1
}

port=$(free_port)
"$bin" serve --sip 127.0.0.1:"$port" --data "$tmp/var" 2>"$tmp/serve.log" &
pid=$!

# Ready when it answers OPTIONS (bounded: 50 tries).
ready=1
for _ in $(seq 1 50); do
    if sipp_run options.xml "$port" 1; then ready=0; break; fi
    kill -0 "$pid" 2>/dev/null || break
done
check "serve answers OPTIONS once started" $ready
[[ -d "$tmp/var" ]]; check "data folder created" $?
fds_before=$(ls /proc/"$pid"/fd 2>/dev/null | wc -l)
threads_before=$(awk '/^Threads/{print $2}' /proc/"$pid"/status)
rss_before=$(awk '/^VmRSS/{print $2}' /proc/"$pid"/status)

sipp_run options.xml "$port" 200; check "200 OPTIONS answered by 200 (SIPp)" $?
sipp_run invite_404.xml "$port" 20; check "a stranger's INVITE to an unknown number answered by 404 (SIPp)" $?
timeout 30 sipp -sf "$here/sipp/options.xml" -m 20 -r 50 -t t1 -i 127.0.0.1 \
    -p "$(free_port)" -timeout 10 -timeout_error -nostdin 127.0.0.1:"$port" \
    >"$tmp/sipp-tcp.out" 2>&1
check "OPTIONS over TCP answered on the same connection (SIPp)" $?

# Raw exchanges a SIPp scenario cannot express: stateless answers to
# malformed requests, TCP framing, keep-alives. Each check prints PASS/FAIL.
python3 - "$port" > "$tmp/raw.out" <<'PY'
import socket, sys
port = int(sys.argv[1])
good = (b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK%d\r\n"
        b"From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: c%d\r\n"
        b"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
bad_cseq = (b"REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKb\r\n"
            b"From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:a@127.0.0.1>\r\nCall-ID: bad1\r\n"
            b"CSeq: 99999999999 REGISTER\r\nContent-Length: 0\r\n\r\n")
def say(ok, name):
    print(("PASS " if ok else "FAIL ") + name)

u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(3)
u.sendto(bad_cseq, ("127.0.0.1", port))
try:
    r = u.recv(65535)
    say(r.startswith(b"SIP/2.0 400 Bad Request (CSeq: CSeq number out of range)\r\n"), "udp malformed request gets 400 naming the header")
    say(b"Call-ID: bad1\r\n" in r and b"branch=z9hG4bKb" in r, "udp 400 carries Via and Call-ID")
except socket.timeout:
    say(False, "udp malformed request gets 400 naming the header"); say(False, "udp 400 carries Via and Call-ID")
u.sendto(bad_cseq.replace(b"REGISTER sip:127.0.0.1 SIP/2.0", b"REGISTER sip:127.0.0.1 SIP/3.0"), ("127.0.0.1", port))
try:
    say(u.recv(65535).startswith(b"SIP/2.0 505 "), "udp SIP/3.0 gets 505")
except socket.timeout:
    say(False, "udp SIP/3.0 gets 505")

# A retransmitted request is absorbed by its transaction: the same answer
# comes back, byte for byte; a CANCEL that matches nothing gets 481.
opt = (b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKretx;rport\r\n"
       b"From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: retx\r\n"
       b"CSeq: 7 OPTIONS\r\nContent-Length: 0\r\n\r\n")
u.sendto(opt, ("127.0.0.1", port))
try:
    first = u.recv(65535)
    u.sendto(opt, ("127.0.0.1", port))
    second = u.recv(65535)
    say(first.startswith(b"SIP/2.0 200 ") and first == second, "udp retransmission gets the same answer")
    say(b"received=127.0.0.1" in first and b"rport=" in first, "udp answer carries received and rport (RFC 3581)")
except socket.timeout:
    say(False, "udp retransmission gets the same answer"); say(False, "udp answer carries received and rport (RFC 3581)")
# Each dialog gets its own random To tag (RFC 3261 §19.3).
import re
tags = []
for cid in (b"tagA", b"tagB"):
    u.sendto(opt.replace(b"Call-ID: retx", b"Call-ID: " + cid).replace(b"z9hG4bKretx", b"z9hG4bK" + cid), ("127.0.0.1", port))
    try:
        m = re.search(rb"\r\nTo: [^\r]*;tag=([0-9a-f]+)\r\n", u.recv(65535))
        tags.append(m.group(1) if m else None)
    except socket.timeout:
        tags.append(None)
say(None not in tags and len(tags[0]) == 16 and tags[0] != tags[1], "different calls get different To tags")
cancel = opt.replace(b"OPTIONS sip:127.0.0.1", b"CANCEL sip:127.0.0.1").replace(b"7 OPTIONS", b"7 CANCEL").replace(b"z9hG4bKretx", b"z9hG4bKnone")
u.sendto(cancel, ("127.0.0.1", port))
try:
    say(u.recv(65535).startswith(b"SIP/2.0 481 "), "udp CANCEL matching nothing gets 481")
except socket.timeout:
    say(False, "udp CANCEL matching nothing gets 481")

def tcp():
    t = socket.create_connection(("127.0.0.1", port), timeout=3); return t
def recv_msgs(t, n):
    data = b""
    while data.count(b"\r\n\r\n") < n:
        chunk = t.recv(65535)
        if not chunk: break
        data += chunk
    return data

t = tcp(); t.sendall((good % (1, 1)) + (good % (2, 2)))
d = recv_msgs(t, 2)
say(d.count(b"SIP/2.0 200 OK") == 2, "tcp two requests in one segment get two answers")
t.sendall(b"\r\n\r\n")
say(t.recv(16) == b"\r\n", "tcp CRLFCRLF ping gets a CRLF pong")
for b in good % (3, 3):
    t.send(bytes([b]))
say(recv_msgs(t, 1).startswith(b"SIP/2.0 200 OK"), "tcp request sent byte by byte is answered")
t.sendall(b"OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bKn\r\nContent-Length: -1\r\n\r\n")
d = recv_msgs(t, 1)
say(d.startswith(b"SIP/2.0 400 "), "tcp bad Content-Length gets 400")
say(t.recv(100) == b"", "tcp framing error closes the connection")
t.close()
PY
check "raw exchanges ran" $?
while read -r verdict name; do
    [[ "$verdict" == PASS ]]; check "$name" $?
done < "$tmp/raw.out"

# Garbage and malformed datagrams are dropped; the server stays up.
python3 - "$port" <<'PY'
import socket, sys, os
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
port = int(sys.argv[1])
msgs = [b"", b"\x00" * 100, os.urandom(1400), b"INVITE sip:x SIP/2.0\r\n\r\n",
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n", b"A" * 65000]
for m in msgs * 20:
    s.sendto(m, ("127.0.0.1", port))
PY
sipp_run options.xml "$port" 5; check "still answers after garbage" $?
kill -0 "$pid" 2>/dev/null; check "still running after garbage" $?

fds_after=$(ls /proc/"$pid"/fd 2>/dev/null | wc -l)
threads_after=$(awk '/^Threads/{print $2}' /proc/"$pid"/status)
[[ "$fds_after" -eq "$fds_before" ]]; check "open files flat ($fds_before -> $fds_after)" $?
[[ "$threads_after" -eq "$threads_before" ]]; check "threads flat ($threads_before -> $threads_after)" $?
# Memory: every datagram reuses the arena and reply buffer, so resident
# memory must not grow with traffic (8 MiB of slack for allocator noise
# under AddressSanitizer).
rss_after=$(awk '/^VmRSS/{print $2}' /proc/"$pid"/status)
[[ $((rss_after - rss_before)) -lt 8192 ]]; check "memory flat (${rss_before} -> ${rss_after} KiB)" $?

# A second server on the same port fails clearly.
"$bin" serve --sip 127.0.0.1:"$port" --data "$tmp/var" 2>"$tmp/second.log"; rc=$?
[[ $rc -ne 0 ]] && grep -q "cannot open SIP port" "$tmp/second.log"; check "port in use is a clear error" $?

kill -TERM "$pid"
rc=124
for _ in $(seq 1 50); do
    if ! kill -0 "$pid" 2>/dev/null; then wait "$pid"; rc=$?; break; fi
    sleep 0.1
done
pid=""
[[ $rc -eq 0 ]]; check "SIGTERM stops it with status 0" $?
grep -q "stopping signal=15" "$tmp/serve.log"; check "stop is logged" $?

"$bin" serve --sip nowhere 2>/dev/null; [[ $? -eq 2 ]]; check "bad --sip is a usage error" $?

# --config: the same options in a JSON file; the command line overrides it.
cport=$(free_port)
printf '{"sip": "127.0.0.1:%s", "data": "%s", "log-level": "debug"}\n' "$cport" "$tmp/cvar" \
    > "$tmp/serve.json"
"$bin" serve --config "$tmp/serve.json" 2>"$tmp/config.log" &
pid=$!
for _ in $(seq 1 50); do
    grep -q "listening addr=127.0.0.1:$cport" "$tmp/config.log" && break
    sleep 0.1
done
grep -q "listening addr=127.0.0.1:$cport proto=udp+tcp data=$tmp/cvar" "$tmp/config.log"
check "--config sets the listening address and data folder" $?
kill -TERM "$pid"; wait "$pid"; pid=""
oport=$(free_port)
"$bin" serve --sip 127.0.0.1:"$oport" --config "$tmp/serve.json" 2>"$tmp/config2.log" &
pid=$!
for _ in $(seq 1 50); do
    grep -q "listening addr=127.0.0.1:$oport" "$tmp/config2.log" && break
    sleep 0.1
done
grep -q "listening addr=127.0.0.1:$oport " "$tmp/config2.log"; check "the command line overrides --config" $?
kill -TERM "$pid"; wait "$pid"; pid=""
printf '{"sip": "127.0.0.1:1", "colour": "blue"}\n' > "$tmp/bad.json"
"$bin" serve --config "$tmp/bad.json" 2>"$tmp/bad.log"; rc=$?
[[ $rc -eq 2 ]] && grep -q 'colour: unknown option' "$tmp/bad.log"; check "an unknown --config key is named" $?
printf '{"sip": 5060' > "$tmp/broken.json"
"$bin" serve --config "$tmp/broken.json" 2>"$tmp/broken.log"; rc=$?
[[ $rc -eq 2 ]] && grep -q 'broken.json: line 1' "$tmp/broken.log"; check "broken --config JSON is refused with its line" $?
"$bin" serve --data /proc/1/nope 2>/dev/null; [[ $? -eq 1 ]]; check "unusable data folder is an error" $?

summary serve
