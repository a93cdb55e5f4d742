#!/usr/bin/env bash
# The RFC 4475 / RFC 5118 SIP torture messages through `shenggu sip-lint`,
# scored by ../shared/testdata/sip-torture/check.sh (its manifest says which
# messages must be accepted, which rejected, and that none may crash it).
#
# Usage: tests/system/torture.sh BUILD_DIR
# Runs from the repository root. When the torture folder is not beside the
# checkout, prints why and exits 0 (skipped, not failed). Otherwise exits
# with check.sh's status: 0 only if every scored message got its verdict.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [[ $# -ne 1 || -z "$1" ]]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
build="$1"
check=../shared/testdata/sip-torture/check.sh

if [[ ! -f "$check" ]]; then
    echo "torture: SKIP: $check not found (the shared folder is not beside the checkout)"
    exit 0
fi
bin="$build/shenggu"
if [[ ! -x "$bin" ]]; then
    echo "torture: no shenggu binary in $build" >&2
    exit 1
fi
echo "torture: $check '$bin sip-lint'"
# check.sh runs the command with bash -c, once per message: quote the path.
exec bash "$check" "$(printf '%q' "$bin") sip-lint"
