# A throwaway PostgreSQL 15 cluster for the tests that need one: source it,
# then `pg_start` and (optionally, the EXIT trap does it too) `pg_stop`.
#
#   pg_start    initdb a cluster in a fresh mktemp folder, start it on
#               127.0.0.1 and a free port (trust authentication, loopback
#               only, no other listener), wait until it answers (bounded),
#               create the database shenggu_test and set
#               PG_URL=postgresql://shenggu@127.0.0.1:PORT/shenggu_test
#               and PG_PORT; status 1 and the server's log when it fails
#   pg_stop     stop the server by its PID (fast shutdown, then SIGKILL
#               after a bounded wait) and remove the folder
#   pg_psql     psql on $PG_URL, unaligned, tuples only: pg_psql -c 'SQL'
#
# PostgreSQL refuses to run as root. CI runs the tests as root, so then the
# cluster belongs to the `postgres` system user (created by Debian's
# postgresql package) and its programs run as that user through setpriv,
# which execs in place: the PID we hold is the server's own.
#
# The cluster trades durability for speed (fsync off): it lives for one test
# run. Set PG_BIN to use another installation's binaries.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DIR=""
PG_PID=""
PG_URL=""
PG_PORT=""

# The prefix that runs a PostgreSQL server program as the cluster's owner
# (empty when that is us). An array, not a function: a function run in the
# background is a subshell, and $! would be that shell's PID.
pg_owner=()
[[ $(id -u) -eq 0 ]] && pg_owner=(setpriv --reuid=postgres --regid=postgres --init-groups --)

pg_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pg_stop() {
    if [[ -n "$PG_PID" ]] && kill -0 "$PG_PID" 2>/dev/null; then
        kill -INT "$PG_PID" 2>/dev/null # fast shutdown: roll back, close sessions
        for _ in $(seq 1 100); do
            kill -0 "$PG_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$PG_PID" 2>/dev/null
    fi
    PG_PID=""
    [[ -n "$PG_DIR" ]] && rm -rf "$PG_DIR"
    PG_DIR=""
}

# Chain onto the EXIT trap the sourcing script may already have (lib.sh's,
# which stops the server first: it should not see its database go away).
pg_trap() {
    local prev
    prev=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
    # shellcheck disable=SC2064
    trap "${prev:-:}; pg_stop" EXIT
    # Killed by a signal, bash skips the EXIT trap: turn them into exits, or
    # a `| head` or a Ctrl-C would leave a server running.
    trap 'exit 129' HUP
    trap 'exit 130' INT
    trap 'exit 141' PIPE
    trap 'exit 143' TERM
}

pg_start() {
    local log
    [[ -x "$PG_BIN/initdb" ]] || { echo "pg_start: no $PG_BIN/initdb (apt-get install postgresql)"; return 1; }
    PG_DIR=$(mktemp -d /tmp/shenggu-pg.XXXXXX) || return 1
    pg_trap
    chmod 0700 "$PG_DIR"
    [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$PG_DIR"
    log="$PG_DIR/server.log"
    if ! "${pg_owner[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U shenggu -A trust -E UTF8 \
        --locale=C.UTF-8 --no-sync >"$PG_DIR/initdb.log" 2>&1; then
        echo "pg_start: initdb failed:"
        cat "$PG_DIR/initdb.log"
        return 1
    fi
    # Trust on the loopback only: no remote host is listed, and the server
    # listens on 127.0.0.1 (and its private socket folder) alone.
    printf '%s\n' 'local all all trust' 'host all all 127.0.0.1/32 trust' \
        >"$PG_DIR/data/pg_hba.conf"
    PG_PORT=$(pg_free_port)
    "${pg_owner[@]}" "$PG_BIN/postgres" -D "$PG_DIR/data" -h 127.0.0.1 -p "$PG_PORT" \
        -k "$PG_DIR" -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
        -c max_connections=50 >"$log" 2>&1 &
    PG_PID=$!
    for _ in $(seq 1 100); do
        if ! kill -0 "$PG_PID" 2>/dev/null; then
            echo "pg_start: the server exited:"
            cat "$log"
            PG_PID=""
            return 1
        fi
        "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 1 && break
        sleep 0.1
    done
    if ! "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 1; then
        echo "pg_start: the server did not answer within 10 s:"
        cat "$log"
        return 1
    fi
    psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U shenggu -d postgres \
        -c 'CREATE DATABASE shenggu_test' >/dev/null || return 1
    PG_URL="postgresql://shenggu@127.0.0.1:$PG_PORT/shenggu_test"
    export PG_URL PG_PORT
}

pg_psql() {
    psql -X -q -A -t -v ON_ERROR_STOP=1 "$PG_URL" "$@"
}
