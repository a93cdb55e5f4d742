#!/usr/bin/env bash
# The registrar against SIPVicious 0.3.3 (Debian `sipvicious`), the scanner
# real attackers run: `svwar` enumerating extensions 1000-1010 of
# acme.example finds no account (existing and unknown users are answered
# alike), and `svcrack` guessing 1002's password is blocked after 10
# failures, before its wordlist reaches the real password (entry 30), while a
# real agent (SIPp) on another loopback address keeps registering the same
# user. svcrack is first shown able to crack a password that comes early in
# its list, so "not found" later means "blocked", not "the tool cannot talk
# to this server".
#
# sipvicious 0.3.3 ignores -b (the bind address is never passed on), so both
# tools send from 127.0.0.1; the real agent registers from 127.0.0.3. Once
# blocked, svcrack never gives up (it resends its unauthenticated REGISTER
# on every 403), so every run of it is bounded with `timeout`.
# Everything runs on loopback, every process is stopped by PID.
#
# Usage: tests/system/test_sipvicious.sh BUILD_DIR
set -uo pipefail
cd "$(dirname "$0")/../.."
bin="$(pwd)/$1/shenggu"
doc=tests/data/prov/good.json
. tests/system/lib.sh
crack_pid=""

# lib.sh stops the server; svcrack, when running, is ours to stop too.
cleanup() {
    [[ -n "$crack_pid" ]] && kill -TERM "$crack_pid" 2>/dev/null # timeout passes it on
    lib_cleanup
}
trap cleanup EXIT

wait_log() { # wait_log PATTERN TENTHS -> 0 once the server log has it
    for _ in $(seq 1 "$2"); do
        grep -q -- "$1" "$log" && return 0
        sleep 0.1
    done
    return 1
}

bindings() { # bindings TENANT AOR [RECEIVED_LIKE] -> count of stored bindings
    sqlite3 "$tmp/var/shenggu.db" "select count(*) from bindings where tenant_id='$1' \
        and aor='$2' and received like '${3:-%}'"
}

# Binding changes reach the database in batches (every 20 ms): poll it.
wait_db() { # wait_db TENANT AOR RECEIVED_LIKE COUNT -> 0 once stored, within 3 s
    for _ in $(seq 1 30); do
        [[ "$(bindings "$1" "$2" "$3")" == "$4" ]] && return 0
        sleep 0.1
    done
    return 1
}

# svwar NAME ARGS... -> its output in $tmp/NAME.out; asserts "found nothing"
svwar_finds_nothing() {
    local name="$1"
    shift
    timeout 60 svwar -x 127.0.0.1 -P "$(free_port)" -p "$port" --domain acme.example "$@" \
        127.0.0.1 >"$tmp/$name.out" 2>&1
    local rc=$?
    [[ $rc -eq 0 ]] && grep -q 'found nothing' "$tmp/$name.out" &&
        ! grep -qi 'exists\|No server response' "$tmp/$name.out"
    local st=$?
    [[ $st -eq 0 ]] || sed 's/^/    svwar: /' "$tmp/$name.out" | tail -20
    return $st
}

port=$(free_port)
# MD5 first: the real agent is SIPp 3.6, which reads only the first challenge
# and knows only MD5 (svcrack copes with either order).
start --digest-order md5-first --log-level debug --provision "$doc"; check "serve starts with the provisioning document" $?

# (a) Enumeration. svwar first asks for a random extension to learn what
# "no such user" looks like; it gets the same 401 challenge as anyone.
svwar_finds_nothing svwar-register -e1000-1010 -m REGISTER
check "svwar REGISTER 1000-1010 finds no extension" $?
grep -q 'register aor=[0-9]*@acme.example src=127.0.0.1 status=401' "$log"
check "svwar's probe reached the registrar (401 in its log)" $?
# --force skips that first check: every extension is answered like the
# random one, which svwar takes as nothing found.
svwar_finds_nothing svwar-force -e1000-1010 -m REGISTER --force
check "svwar --force REGISTER 1000-1010 finds no extension" $?
svwar_finds_nothing svwar-options -e1000-1010 -m OPTIONS --force
check "svwar --force OPTIONS 1000-1010 finds no extension" $?
[[ "$(bindings acme 1001)" == 0 && "$(bindings acme 1002)" == 0 ]]
check "the scans registered nothing" $?

# (b) Cracking. Control: svcrack does crack a password early in its list
# (globex's 1001; its source then has 2 failures, far from the limits).
printf 'guess-1\nguess-2\nd0h-d0h-d0h\nguess-4\n' >"$tmp/words-control"
timeout 30 svcrack -x 127.0.0.1 -P "$(free_port)" -p "$port" --domain globex.example \
    -u 1001 -d "$tmp/words-control" 127.0.0.1 >"$tmp/crack-control.out" 2>&1
grep -q 'd0h-d0h-d0h' "$tmp/crack-control.out"
check "svcrack cracks a password that comes 3rd in its list (control)" $?

# The attack: 1002's real password is entry 30 of 40; the registrar blocks
# this source and AOR after the 10th failure.
{
    for i in $(seq 1 29); do echo "guess-$i"; done
    echo s3cret-1002
    for i in $(seq 31 40); do echo "guess-$i"; done
} >"$tmp/words"
timeout 40 svcrack -x 127.0.0.1 -P "$(free_port)" -p "$port" --domain acme.example \
    -u 1002 -d "$tmp/words" 127.0.0.1 >"$tmp/crack.out" 2>&1 &
crack_pid=$!
wait_log "blocked src=127.0.0.1 aor=1002@acme.example" 200
check "the server logs the block (blocked src=127.0.0.1 aor=1002@acme.example)" $?
[[ "$(grep -c 'register aor=1002@acme.example src=127.0.0.1 status=403' "$log")" -ge 10 ]]
check "svcrack's guesses were answered 403" $?
# Meanwhile, with svcrack still hammering, the real agent registers.
kill -0 "$crack_pid" 2>/dev/null
check "svcrack is still running when the real agent registers" $?
sipp_as 127.0.0.3 reg_ok.xml acme.example 1002 s3cret-1002
check "1002 registers from 127.0.0.3 while 127.0.0.1 is blocked" $?
kill -TERM "$crack_pid" 2>/dev/null
wait "$crack_pid" 2>/dev/null
crack_pid=""
! grep -q 's3cret-1002' "$tmp/crack.out"
check "svcrack did not find 1002's password" $?
! grep -q 'register aor=1002@acme.example src=127.0.0.1 status=200' "$log"
check "no REGISTER for 1002 from the attacking source succeeded" $?
wait_db acme 1002 '127.0.0.3:%' 1 && [[ "$(bindings acme 1002 '127.0.0.1:%')" == 0 ]]
check "1002's only binding is the real agent's" $?

kill -TERM "$pid"; wait "$pid"; rc=$?; pid=""
[[ $rc -eq 0 ]]; check "SIGTERM stops it cleanly after the flood" $?

summary sipvicious
