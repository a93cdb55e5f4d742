#!/usr/bin/env bash
# The API system test (test_api.sh) again, on the PostgreSQL backend: a
# throwaway PostgreSQL 15 cluster on loopback (tests/system/pg.sh) holds
# the node's database (--db postgresql://...): logins and tokens, the
# exhaustive access walk, agent states, the event stream, the tenant's
# document applied through the API, kill -9 and restart. Prints
# "api-pg: N passed, M failed".
#
# Usage: tests/system/test_api_pg.sh BUILD_DIR
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/system/pg.sh
pg_trap
if ! pg_start; then
    echo "api-pg: 0 passed, 1 failed (no PostgreSQL cluster)"
    exit 1
fi
tests/system/test_api.sh "${1:-build}" "$PG_URL" | sed -u 's/^api: /api-pg: /'
rc=${PIPESTATUS[0]}
pg_stop
exit "$rc"
