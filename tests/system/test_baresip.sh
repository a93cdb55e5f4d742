#!/usr/bin/env bash
# A real softphone against the registrar: baresip 1.0.0 (Debian `baresip`,
# libre 1.1.0), headless, registers 1001@acme.example with digest auth,
# stays registered across its own refresh, and unregisters when told to
# quit. Asserted from the server's side: the stored binding (sqlite3) and
# the registrar's debug log.
#
# baresip runs with its own config folder (-f) holding only the modules it
# needs: account (the accounts file), stdio + menu (commands on stdin, here
# a FIFO, so `/quit` can be sent); no audio or video module at all.
# baresip 1.0.0 has no command to force a re-REGISTER (`/uareg` came later),
# so the test waits for the real refresh: libre re-registers at 90% of the
# granted expiry, 54 s after a 60 s registration (60 s is the registrar's
# Min-Expires). The whole test takes about a minute.
#
# libre 1.1.0 knows only MD5 and gives up ("Register: Function not
# implemented") on a 401 that carries any other challenge, whatever the
# order: the server must offer MD5 alone for it.
# Everything runs on loopback, every process is stopped by PID.
#
# Usage: tests/system/test_baresip.sh BUILD_DIR
set -uo pipefail
cd "$(dirname "$0")/../.."
bin="$(pwd)/$1/shenggu"
doc=tests/data/prov/good.json
. tests/system/lib.sh
bs_pid=""

# lib.sh stops the server; baresip, when running, is ours to stop too.
cleanup() {
    [[ -n "$bs_pid" ]] && kill -9 "$bs_pid" 2>/dev/null
    lib_cleanup
}
trap cleanup EXIT


q() { # q SQL -> one value from the server's database
    sqlite3 "$tmp/var/shenggu.db" "$1"
}
binding() { # the stored binding of 1001@acme: "call_id|cseq|expires_at|received"
    q "select call_id, cseq, expires_at, received from bindings
       where tenant_id='acme' and aor='1001'"
}
count() { q "select count(*) from bindings where tenant_id='acme' and aor='1001'"; }
oks() { grep -c 'register aor=1001@acme.example src=127.0.0.1 status=200' "$log"; }

# until TENTHS COMMAND... -> 0 as soon as COMMAND succeeds, 1 after TENTHS/10 s
until_ok() {
    local n="$1"
    shift
    for _ in $(seq 1 "$n"); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

port=$(free_port)
start --digest-order md5-only --log-level debug --provision "$doc"; check "serve starts with the provisioning document" $?

# baresip's own config folder: only what registering needs.
conf="$tmp/baresip"
mkdir -p "$conf"
cat >"$conf/config" <<EOF
sip_listen		127.0.0.1:$(free_port)
module_path		/usr/lib/baresip/modules
module			stdio.so
module_app		account.so
module_app		menu.so
EOF
cat >"$conf/accounts" <<EOF
<sip:1001@acme.example;transport=udp>;auth_pass=s3cret-1001;outbound="sip:127.0.0.1:$port";regint=60
EOF
mkfifo "$tmp/stdin"
baresip -f "$conf" -s <"$tmp/stdin" >"$tmp/baresip.out" 2>&1 &
bs_pid=$!
exec 3>"$tmp/stdin" # held open: baresip reads its commands from here

registered() { [[ "$(oks)" -ge 1 && "$(count)" == 1 ]]; }
until_ok 100 registered
check "baresip registers with digest auth (binding stored)" $?
if grep -q 'Function not implemented' "$tmp/baresip.out"; then
    echo "    baresip gave up on the 401 (libre knows only MD5):"
    grep -A12 '^SIP/2.0 401' "$tmp/baresip.out" | grep -i 'www-authenticate' | sed 's/^/    /'
fi
first=$(binding)
[[ "$first" == *"|127.0.0.1:"* ]]; check "the binding records baresip's address" $?

# The refresh: same Call-ID, a higher CSeq, a later expiry, still 1 binding.
refreshed() {
    local now
    now=$(binding)
    [[ "$(oks)" -ge 2 && "$(count)" == 1 && -n "$first" &&
        "${now%%|*}" == "${first%%|*}" && "$now" != "$first" ]]
}
if [[ -n "$first" ]]; then until_ok 700 refreshed; else false; fi
check "baresip refreshes its registration (same Call-ID, one binding)" $?
now=$(binding)
IFS='|' read -r _ cseq1 exp1 _ <<<"$first"
IFS='|' read -r _ cseq2 exp2 _ <<<"$now"
[[ -n "$first" && "$cseq2" -gt "$cseq1" && "$exp2" -gt "$exp1" ]]
check "the refresh moved the stored CSeq and expiry forward" $?
! grep -q 'register aor=1001@acme.example src=127.0.0.1 status=403' "$log"
check "no REGISTER of baresip's was refused" $?

# Quit: baresip unregisters (expires=0) before it exits.
echo "/quit" >&3
exited() { ! kill -0 "$bs_pid" 2>/dev/null; }
until_ok 100 exited; st=$?
check "baresip quits on /quit" $st
[[ $st -eq 0 ]] || kill -9 "$bs_pid" 2>/dev/null
wait "$bs_pid"; rc=$?
bs_pid=""
exec 3>&-
[[ $rc -eq 0 ]]; check "baresip exits 0" $?
gone() { [[ "$(count)" == 0 ]]; }
until_ok 30 gone && [[ "$(oks)" -ge 3 ]]
check "quitting unregisters (binding removed)" $?

kill -TERM "$pid"; wait "$pid"; rc=$?; pid=""
[[ $rc -eq 0 ]]; check "SIGTERM stops the server cleanly" $?

summary baresip
