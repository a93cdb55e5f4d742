#!/usr/bin/env bash
# The store on PostgreSQL, end to end, against a throwaway PostgreSQL 15
# cluster on loopback (tests/system/pg.sh): the unit tests of the store and
# of provisioning run again with SHENGGU_TEST_PG (each test in a schema of
# its own; the store's also with --oom), then `shenggu provision --db` as
# an operator runs it (rows as psql sees them, idempotent, a refused
# document writes nothing, two nodes migrating a new database at once), and
# `shenggu serve --db` with --provision: a phone registers and its binding
# lands in PostgreSQL, and comes back after kill -9. Prints
# "store-pg: N passed, M failed".
#
# Usage: tests/system/test_store_pg.sh BUILD_DIR
# The store's unit tests also run with --oom; STORE_PG_OOM=1 adds the
# provisioning tests' (slow: every allocation failure re-creates a schema).
set -uo pipefail
cd "$(dirname "$0")/../.."
case "$1" in /*) build="$1" ;; *) build="$(pwd)/$1" ;; esac
bin="$build/shenggu"
unit="$build/tests/unit/unit-tests"
doc=tests/data/prov/good.json
docs=tests/data/prov
. tests/system/lib.sh
. tests/system/pg.sh

if ! pg_start; then
    echo "store-pg: 0 passed, 1 failed (no PostgreSQL cluster)"
    exit 1
fi
q() { pg_psql -c "$1"; }
dump() { # every configuration row, in key order
    local t
    for t in "tenants ORDER BY id" "numbers ORDER BY number" "users ORDER BY tenant_id, id" \
        "credentials ORDER BY tenant_id, user_id, alg" "queues ORDER BY tenant_id, id" \
        "ivr ORDER BY tenant_id, id" "trunks ORDER BY tenant_id, id"; do
        q "SELECT * FROM $t"
    done
}

# 1. The unit tests of the store and of provisioning, on PostgreSQL. Their
# summary line is folded into ours (test-all.sh sums every summary line).
run_unit() { # run_unit LABEL ARGS...
    local label="$1" out counts
    shift
    out=$(SHENGGU_TEST_PG="$PG_URL" "$unit" "$@" 2>"$tmp/unit.err")
    grep '^FAIL' <<<"$out" | sed "s/^/$label: /"
    counts=$(grep -Eo '[0-9]+ passed, [0-9]+ failed' <<<"$out" | tail -1)
    if [[ -z "$counts" ]]; then
        echo "FAIL $label: no summary (crashed?)"
        tail -20 "$tmp/unit.err"
        fail=$((fail + 1))
        return
    fi
    pass=$((pass + ${counts%% passed*}))
    counts=${counts#* passed, }
    fail=$((fail + ${counts%% failed*}))
    [[ ${counts%% failed*} -eq 0 ]] || tail -40 "$tmp/unit.err"
}
run_unit unit test_store_ test_prov_
# Failing each allocation in turn drives the backend's error paths; the
# provisioning tests make many more allocations (a schema each: 1.5 min).
run_unit unit-oom --oom test_store_
[[ -n "${STORE_PG_OOM:-}" ]] && run_unit unit-oom --oom test_prov_

# 2. shenggu provision --db postgresql://...
out=$("$bin" provision "$doc" --db "$PG_URL" 2>"$tmp/err"); rc=$?
check "good document applied" $rc
[[ "$out" == "provisioned: tenants 2 (2 changed), users 4 (4 changed), numbers 3 (3 changed), queues 3 (3 changed), ivr 1 (1 changed)" ]]
check "summary line" $?
[[ ! -e "$tmp/var" ]]; check "no data folder made for a PostgreSQL URL" $?
[[ "$(q 'SELECT id, domain, seats FROM tenants ORDER BY id')" == $'acme|acme.example|50\nglobex|globex.example|5' ]]
check "tenant rows" $?
[[ "$(q "SELECT tenant_id, route FROM numbers WHERE number = '8585100001'")" == 'acme|{"ivr":"main"}' ]]
check "number row with its route as JSON text" $?
[[ "$(q "SELECT ha1 FROM credentials WHERE tenant_id = 'acme' AND user_id = '1001' AND alg = 'MD5'")" == \
   "$(printf '1001:acme.example:s3cret-1001' | md5sum | cut -d' ' -f1)" ]]
check "MD5 HA1 is md5(user:realm:password)" $?
[[ "$(q "SELECT name FROM users WHERE tenant_id = 'acme' AND id = '1002'")" == '王伟' ]]
check "UTF-8 names round-trip" $?
[[ "$(q 'SELECT max(version) FROM schema_version')" -ge 7 && \
   "$(q 'SELECT count(*) FROM schema_version')" == "$(q 'SELECT max(version) FROM schema_version')" ]]
check "schema versions recorded once each" $?
[[ -z "$(dump | grep -E 's3cret|adm1n-pass|d0h-d0h')" ]]; check "no plaintext password stored" $?

before=$(dump)
out=$("$bin" provision "$doc" --db "$PG_URL" 2>/dev/null); rc=$?
check "re-apply exits 0" $rc
[[ "$out" == "provisioned: tenants 2, users 4, numbers 3, queues 3, ivr 1: unchanged" ]]
check "re-apply says unchanged" $?
[[ "$(dump)" == "$before" ]]; check "re-apply leaves the database identical" $?
out=$("$bin" provision "$docs/conflict-number.json" --db "$PG_URL" 2>&1 >/dev/null); rc=$?
[[ $rc -eq 1 && "$out" == *'number "8585200001" is already owned by tenant "globex"'* ]]
check "a conflicting document is refused" $?
[[ "$(dump)" == "$before" ]]; check "a refused document writes nothing" $?
out=$("$bin" provision "$doc" --db "postgresql://shenggu@127.0.0.1:1/x?connect_timeout=5" 2>&1); rc=$?
[[ $rc -eq 1 && "$out" == *"cannot connect to PostgreSQL"* && $(wc -l <<<"$out") -eq 1 ]]
check "no server: exit 1, one line" $?

# Two nodes opening a new database at once: one schema, migrated once.
q 'CREATE DATABASE race' >/dev/null
race="${PG_URL%/*}/race"
"$bin" provision "$doc" --db "$race" >"$tmp/race1" 2>&1 &
p1=$!
"$bin" provision "$doc" --db "$race" >"$tmp/race2" 2>&1 &
p2=$!
wait $p1; rc1=$?
wait $p2; rc2=$?
[[ $rc1 -eq 0 && $rc2 -eq 0 ]]; check "two provisions at once on a new database both succeed" $?
[[ "$(psql -X -A -t -q "$race" -c 'SELECT count(*), count(DISTINCT version) FROM schema_version')" == "$(q 'SELECT count(*), count(*) FROM schema_version')" ]]
check "each migration applied once" $?
[[ "$(psql -X -A -t -q "$race" -c 'SELECT count(*) FROM users')" == 4 ]]
check "the users are there once" $?

# 3. shenggu serve --db postgresql://...: registrations land in PostgreSQL.
bindings() { q "SELECT count(*) FROM bindings WHERE tenant_id = '$1' AND aor = '$2'"; }
stored() { # stored TENANT AOR N: bounded wait for the batched writer
    for _ in $(seq 1 100); do
        [[ "$(bindings "$1" "$2")" == "$3" ]] && return 0
        sleep 0.05
    done
    return 1
}
port=$(free_port)
start --db "$PG_URL" --digest-order md5-first --provision "$doc"
check "serve starts on PostgreSQL with the provisioning document" $?
sipp_as 127.0.0.1 reg_ok.xml acme.example 1001 s3cret-1001; check "1001@acme registers" $?
stored acme 1001 1; check "the binding is in PostgreSQL" $?
sipp_as 127.0.0.1 reg_403.xml acme.example 1001 wrong-password; check "a wrong password gets 403" $?
kill -9 "$pid"; wait "$pid" 2>/dev/null; pid=""
start --db "$PG_URL" --digest-order md5-first
check "serve restarts on the same database" $?
grep -q "registrations restored bindings=1 " "$log"; check "the binding is restored after kill -9" $?
[[ -z "$(ls -A "$tmp/var" 2>/dev/null | grep shenggu.db)" ]]; check "no SQLite file beside it" $?
"$bin" cdr --tenant acme --db "$PG_URL" >"$tmp/cdr.csv" 2>&1; check "shenggu cdr reads PostgreSQL" $?
kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=""

summary store-pg
