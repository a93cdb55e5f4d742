#!/usr/bin/env bash
# shenggu sip-lint as a user runs it: JSON summary and exit 0 for a good
# message, one-line reason and exit 1 for a bad one, --stream framing rules,
# --repeat, and usage errors.
#
# Usage: tests/system/test_sip_lint.sh BUILD_DIR
set -uo pipefail
cd "$(dirname "$0")/../.."
bin="$1/shenggu"
data=tests/data/sip
pass=0
fail=0

check() { # check NAME CONDITION-EXIT-STATUS
    if [[ "$2" -eq 0 ]]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1"; fi
}

out=$("$bin" sip-lint < "$data/invite.sip"); rc=$?
check "invite accepted" $rc
echo "$out" | grep -q '"type":"request","method":"INVITE"'; check "invite summary type and method" $?
echo "$out" | grep -q '"cseq":{"seq":'; check "invite summary cseq" $?
echo "$out" | grep -q '"via_branch":"z9hG4bK'; check "invite summary branch" $?
echo "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["body_length"] > 0 and d["headers"] > 5' 2>/dev/null
check "invite summary is JSON with counts" $?

out=$("$bin" sip-lint < "$data/200ok.sip"); rc=$?
check "response accepted" $rc
echo "$out" | grep -q '"type":"response","status":200'; check "response summary" $?

bad=$'INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: x\r\nCSeq: 99999999999 INVITE\r\nContent-Length: 0\r\n\r\n'
out=$(printf '%s' "$bad" | "$bin" sip-lint); rc=$?
[[ $rc -eq 1 ]]; check "bad CSeq rejected with exit 1" $?
[[ "$out" == "invalid: CSeq: CSeq number out of range at offset "*" (malformed)" ]]; check "bad CSeq reason names header" $?
[[ $(echo "$out" | wc -l) -eq 1 ]]; check "reason is one line" $?

nocl=$'OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n'
printf '%s' "$nocl" | "$bin" sip-lint > /dev/null; check "datagram without Content-Length accepted" $?
out=$(printf '%s' "$nocl" | "$bin" sip-lint --stream); rc=$?
[[ $rc -eq 1 && "$out" == *"Content-Length missing"* ]]; check "stream without Content-Length rejected" $?

out=$("$bin" sip-lint --repeat 1000 < "$data/invite.sip"); rc=$?
[[ $rc -eq 0 && "$out" == "1000 parses in "*" parses/s" ]]; check "--repeat prints a rate" $?

head -c 70000 /dev/zero | tr '\0' 'A' | "$bin" sip-lint > /dev/null; rc=$?
[[ $rc -eq 1 ]]; check "oversize input rejected" $?
"$bin" sip-lint < /dev/null > /dev/null; rc=$?
[[ $rc -eq 1 ]]; check "empty input rejected" $?
"$bin" sip-lint --bogus < /dev/null > /dev/null 2>&1; rc=$?
[[ $rc -eq 2 ]]; check "unknown option is a usage error" $?

echo "sip-lint: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
