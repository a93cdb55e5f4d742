#!/usr/bin/env bash
# The multi-tenant registrar as phones use it: `shenggu serve --provision`
# with two tenants that both have a user 1001, driven by SIPp with digest
# authentication. Checks registration, wrong password and unknown user
# (both 403, alike), unknown domain (404), tenants kept apart, unregister,
# bindings written to the database and restored after kill -9, and an
# attacking source blocked while another loopback source keeps registering.
# Everything runs on loopback, every process is stopped by PID.
#
# Usage: tests/system/test_register.sh BUILD_DIR
set -uo pipefail
cd "$(dirname "$0")/../.."
bin="$(pwd)/$1/shenggu"
doc=tests/data/prov/good.json
. tests/system/lib.sh



bindings() { # bindings TENANT AOR -> count of stored bindings
    sqlite3 "$tmp/var/shenggu.db" "select count(*) from bindings where tenant_id='$1' and aor='$2'"
}

# Binding writes are batched (every 20 ms): wait, bounded, for the count.
stored() { # stored TENANT AOR N -> 0 once the database holds N bindings of the AOR
    for _ in $(seq 1 100); do
        [[ "$(bindings "$1" "$2")" == "$3" ]] && return 0
        sleep 0.02
    done
    return 1
}

port=$(free_port)
start --digest-order md5-first --provision "$doc"; check "serve starts with the provisioning document" $?

sipp_as 127.0.0.1 reg_ok.xml acme.example 1001 s3cret-1001; check "1001@acme registers with digest auth" $?
stored acme 1001 1; check "the binding is in the database" $?
sipp_as 127.0.0.1 reg_ok.xml acme.example 1001 s3cret-1001; check "a refresh is accepted" $?
stored acme 1001 1; check "a refresh keeps one binding" $?
sipp_as 127.0.0.1 reg_lost_200.xml acme.example 1001 s3cret-1001 10
check "lost 200s: the retransmitted REGISTER gets its 200 again (10 calls)" $?
sipp_as 127.0.0.1 reg_403.xml acme.example 1001 wrong-password; check "a wrong password gets 403" $?
sipp_as 127.0.0.1 reg_403.xml acme.example 7777 whatever; check "an unknown user gets 403 too" $?
sipp_as 127.0.0.1 reg_404.xml nowhere.example 1001 s3cret-1001; check "an unknown domain gets 404" $?
sipp_as 127.0.0.1 reg_403.xml globex.example 1001 s3cret-1001; check "acme's password is refused in globex" $?
sipp_as 127.0.0.1 reg_ok.xml globex.example 1001 d0h-d0h-d0h; check "globex's 1001 registers with its own" $?
stored globex 1001 1 && stored acme 1001 1; check "the two 1001s are kept apart" $?
sipp_as 127.0.0.1 unreg.xml globex.example 1001 d0h-d0h-d0h; check "unregister (Contact: *, Expires: 0) is accepted" $?
stored globex 1001 0; check "unregister removes the stored binding" $?

# Acknowledged bindings survive kill -9 and come back at start-up.
kill -9 "$pid"; wait "$pid" 2>/dev/null; pid=""
start --digest-order md5-first; check "serve restarts on the same data" $?
grep -q "registrations restored bindings=1 " "$log"; check "the binding is restored after kill -9" $?
sipp_as 127.0.0.1 reg_ok.xml acme.example 1001 s3cret-1001; check "registering still works after the restart" $?

# An attacker on 127.0.0.2 guessing passwords is blocked; a real agent on
# 127.0.0.3 keeps registering.
sipp_as 127.0.0.2 reg_403.xml acme.example 1002 guess 10; check "10 bad guesses answered 403" $?
sipp_as 127.0.0.2 reg_blocked.xml acme.example 1002 s3cret-1002; check "the attacking source is now blocked at once" $?
sipp_as 127.0.0.3 reg_ok.xml acme.example 1002 s3cret-1002; check "the same user from another source registers" $?
grep -q "blocked src=127.0.0.2" "$log"; check "the block is logged" $?

kill -TERM "$pid"; wait "$pid"; rc=$?; pid=""
[[ $rc -eq 0 ]]; check "SIGTERM stops it cleanly" $?

# A bad provisioning document stops serve before it listens, with the path.
"$bin" serve --sip 127.0.0.1:"$port" --data "$tmp/var2" \
    --provision tests/data/prov/bad-strategy.json 2>"$tmp/bad.log"; rc=$?
[[ $rc -eq 1 ]] && grep -q 'strategy: unknown strategy' "$tmp/bad.log"; check "a bad document is refused with its JSON path" $?

summary register
