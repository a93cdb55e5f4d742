#!/usr/bin/env bash
# shenggu provision as an operator runs it, on the sample documents in
# tests/data/prov/: a good document applied (exit 0, one-line summary, the
# rows in the database as the sqlite3 CLI sees them), applied again
# (unchanged, database identical), bad documents refused (exit 1, the JSON
# path in the message, nothing written), a change applied (removals, other
# tenants untouched), no plaintext password anywhere in the files, IVR
# flows with a tenant calendar and trunks stored, and usage errors (exit 2).
#
# Usage: tests/system/test_provision.sh BUILD_DIR
set -uo pipefail
cd "$(dirname "$0")/../.."
bin="$(pwd)/$1/shenggu"
docs=tests/data/prov
tmp=$(mktemp -d)
data="$tmp/var"
db="$data/shenggu.db"
pass=0
fail=0
trap 'rm -rf "$tmp"' EXIT

check() { # check NAME STATUS
    if [[ "$2" -eq 0 ]]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1"; fi
}
q() { sqlite3 -batch -noheader "$db" "$1"; }
dump() { sqlite3 -batch "$db" .dump | grep -v '^INSERT INTO schema_version'; }

out=$("$bin" provision "$docs/good.json" --data "$data" 2>"$tmp/err"); rc=$?
check "good document applied" $rc
[[ "$out" == "provisioned: tenants 2 (2 changed), users 4 (4 changed), numbers 3 (3 changed), queues 3 (3 changed), ivr 1 (1 changed)" ]]
check "summary line" $?
[[ -f "$db" ]]; check "database created under the data folder" $?
[[ "$(q 'SELECT id, domain, seats FROM tenants ORDER BY id')" == $'acme|acme.example|50\nglobex|globex.example|5' ]]
check "tenant rows" $?
[[ "$(q "SELECT tenant_id, route FROM numbers WHERE number = '8585100001'")" == 'acme|{"ivr":"main"}' ]]
check "number row with route" $?
[[ "$(q "SELECT ha1 FROM credentials WHERE tenant_id = 'acme' AND user_id = '1001' AND alg = 'MD5'")" == \
   "$(printf '1001:acme.example:s3cret-1001' | md5sum | cut -d' ' -f1)" ]]
check "MD5 HA1 is md5(user:realm:password)" $?
[[ "$(q "SELECT ha1 FROM credentials WHERE tenant_id = 'acme' AND user_id = '1001' AND alg = 'SHA-256'")" == \
   "$(printf '1001:acme.example:s3cret-1001' | sha256sum | cut -d' ' -f1)" ]]
check "SHA-256 HA1 is sha256(user:realm:password)" $?
[[ "$(q "SELECT strategy, overflow FROM queues WHERE id = 'loans'")" == 'longest-idle|{"queue":"general"}' ]]
check "queue row" $?
[[ "$(q 'PRAGMA journal_mode')" == wal ]]; check "WAL journal" $?
[[ "$(q 'SELECT max(version) FROM schema_version')" -ge 2 ]]; check "schema version recorded" $?
# No plaintext password in any file of the database (main file, WAL, shm).
leaked=0
for f in "$db"*; do
    for pw in s3cret-1001 s3cret-1002 adm1n-pass d0h-d0h-d0h; do
        grep -aq -- "$pw" "$f" && { leaked=1; echo "  $pw found in $f"; }
    done
done
[[ $leaked -eq 0 ]]; check "no plaintext password stored" $?

before=$(dump)
out=$("$bin" provision "$docs/good.json" --data "$data" 2>/dev/null); rc=$?
check "re-apply exits 0" $rc
[[ "$out" == "provisioned: tenants 2, users 4, numbers 3, queues 3, ivr 1: unchanged" ]]
check "re-apply says unchanged" $?
[[ "$(dump)" == "$before" ]]; check "re-apply leaves the database identical" $?

bad() { # bad NAME FILE EXPECTED-STDERR-SUBSTRING
    local out rc
    out=$("$bin" provision "$docs/$2" --data "$data" 2>&1 >/dev/null); rc=$?
    [[ $rc -eq 1 ]]; check "$1: exit 1" $?
    [[ "$out" == *"$3"* ]]; check "$1: message" $?
    [[ $(printf '%s\n' "$out" | wc -l) -eq 1 ]]; check "$1: one line" $?
    [[ "$(dump)" == "$before" ]]; check "$1: nothing written" $?
}
bad "unknown strategy" bad-strategy.json \
    "bad-strategy.json: tenants[0].queues[1].strategy: unknown strategy \"fastest\""
bad "route to another tenant's ivr" bad-route.json \
    "tenants[1].numbers[0].route.ivr: no ivr \"main\" in tenant \"globex\""
bad "invalid JSON" bad-syntax.json "document: invalid JSON at line 1"
bad "number of a tenant not in the document" conflict-number.json \
    "tenants[0].numbers[0].number: number \"8585200001\" is already owned by tenant \"globex\""
bad "missing file" no-such-file.json "cannot read $docs/no-such-file.json: No such file or directory"

out=$("$bin" provision "$docs/acme-v2.json" --data "$data" 2>/dev/null); rc=$?
check "changed document applied" $rc
[[ "$out" == "provisioned: tenants 1, users 2 (1 removed), numbers 1 (1 removed), queues 2 (1 changed), ivr 1" ]]
check "changed summary counts removals" $?
[[ "$(q "SELECT count(*) FROM users WHERE tenant_id = 'acme'")" == 2 ]]; check "user removed" $?
[[ "$(q "SELECT count(*) FROM credentials WHERE user_id = '1002'")" == 0 ]]; check "its credentials removed" $?
[[ "$(q "SELECT count(*) FROM users WHERE tenant_id = 'globex'")" == 1 ]]; check "other tenant untouched" $?

# IVR flows, a tenant calendar and trunks (docs/IVR.md), in a database of their own.
fdb="$tmp/flows/shenggu.db"
fq() { sqlite3 -batch -noheader "$fdb" "$1"; }
out=$("$bin" provision "$docs/flows.json" --data "$tmp/flows" 2>&1); rc=$?
check "flows document applied" $rc
[[ "$out" == "provisioned: tenants 2 (2 changed), users 2 (2 changed), numbers 3 (3 changed), queues 5 (5 changed), ivr 2 (2 changed)" ]]
check "flows summary" $?
[[ "$(fq "SELECT timezone FROM tenants WHERE id = 'acme'")" == Asia/Shanghai ]]; check "tenant time zone stored" $?
[[ "$(fq "SELECT json_extract(calendar, '$.hours.sat[0]') FROM tenants WHERE id = 'acme'")" == 10:00-14:00 ]]
check "tenant hours stored" $?
[[ "$(fq "SELECT id || '=' || sources FROM trunks ORDER BY id")" == $'carrier=["198.51.100.0/24","2001:db8:5::/48"]\npbx=["192.0.2.10/32"]' ]]
check "trunks stored as canonical blocks" $?
[[ "$(fq "SELECT json_extract(definition, '$.nodes[0].id') FROM ivr WHERE id = 'main'")" == welcome ]]
check "flow stored as its JSON" $?
out=$("$bin" provision "$docs/flows.json" --data "$tmp/flows" 2>&1); rc=$?
[[ $rc -eq 0 && "$out" == *": unchanged" ]]; check "flows re-apply unchanged" $?

out=$("$bin" provision "$docs/good.json" --db "sqlite:$tmp/other.db" 2>/dev/null); rc=$?
[[ $rc -eq 0 && -f "$tmp/other.db" ]]; check "--db URL" $?
# Port 1 on loopback: nothing listens there, so the answer is a refusal.
out=$("$bin" provision "$docs/good.json" --db postgresql://127.0.0.1:1/shenggu 2>&1); rc=$?
[[ $rc -eq 1 && "$out" == *"cannot connect to PostgreSQL"* ]]; check "postgresql URL without a server: clear error" $?
"$bin" provision >/dev/null 2>&1; rc=$?
[[ $rc -eq 2 ]]; check "no file: usage error" $?
"$bin" provision "$docs/good.json" --bogus >/dev/null 2>&1; rc=$?
[[ $rc -eq 2 ]]; check "unknown option: usage error" $?
"$bin" provision "$docs/good.json" --data >/dev/null 2>&1; rc=$?
[[ $rc -eq 2 ]]; check "option without value: usage error" $?
"$bin" provision --help | grep -q 'usage: shenggu provision FILE'; check "--help" $?

echo "provision: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
