# Shared by the system tests: source it after `cd` to the repository root.
# Gives a scratch folder ($tmp), the check counter, a free loopback port,
# and stops the server ($pid) and removes $tmp on exit, whatever happens.
#
#   check NAME STATUS   count a pass (STATUS 0) or print "FAIL NAME"
#   summary SUITE       print "SUITE: N passed, M failed"; status 0 if none failed
#   free_port           a port on 127.0.0.1 free for UDP and for TCP

tmp=$(mktemp -d)
pass=0
fail=0
pid=""

lib_cleanup() {
    [[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null
    # KEEP_TMP=1: leave the scratch folder (logs, SIPp output) to look at.
    if [[ -n "${KEEP_TMP:-}" ]]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap lib_cleanup EXIT

check() {
    if [[ "$2" -eq 0 ]]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1"; fi
}

summary() {
    echo "$1: $pass passed, $fail failed"
    [[ $fail -eq 0 ]]
}

#   new_cdr TENANT      the newest CDR of TENANT (CSV) once it is not the one the
#                       last call of new_cdr saw (CDRs reach the database a few
#                       ms after the call: the journal's writer thread); bounded
new_cdr() {
    local line prev
    prev=$(cat "$tmp/.last_cdr" 2>/dev/null)
    for _ in $(seq 1 50); do
        line=$("$bin" cdr --tenant "$1" --data "$tmp/var" | tail -n +2 | tail -1)
        [[ -n "$line" && "${line%%,*}" != "$prev" ]] && break
        sleep 0.1
    done
    echo "${line%%,*}" >"$tmp/.last_cdr"
    echo "$line"
}

free_port() {
    # Free for UDP and for TCP both: SIP listens on both with one number.
    python3 -c '
import socket
for _ in range(100):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    port = u.getsockname()[1]
    t = socket.socket()
    try:
        t.bind(("127.0.0.1", port))
    except OSError:
        continue
    print(port)
    break'
}

#   start ARGS...       run `$bin serve --sip 127.0.0.1:$port --data $tmp/var ARGS...`
#                       in the background ($pid), logging to its own file ($log,
#                       $tmp/serve-N.log), and wait (bounded) until it listens
starts=0
start() {
    starts=$((starts + 1))
    log="$tmp/serve-$starts.log"
    "$bin" serve --sip 127.0.0.1:"$port" --data "$tmp/var" --http off "$@" 2>"$log" &
    pid=$!
    for _ in $(seq 1 50); do
        grep -q "listening addr=127.0.0.1:$port" "$log" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

#   sipp_as SRC_IP SCENARIO DOMAIN USER PASSWORD [COUNT]
#                       run tests/system/sipp/SCENARIO as USER@DOMAIN from SRC_IP
#                       against $port, with digest credentials; each user's
#                       "phone" keeps its port, so a refresh finds its binding
declare -A phone_port
sipp_as() {
    local ip="$1" sf="$2" domain="$3" user="$4" pw="$5" n="${6:-1}"
    local key="$ip/$domain/$user"
    [[ -n "${phone_port[$key]:-}" ]] || phone_port[$key]=$(free_port)
    timeout 60 sipp -sf "tests/system/sipp/$sf" -m "$n" -r 20 -i "$ip" -p "${phone_port[$key]}" \
        -key domain "$domain" -key user "$user" -au "$user" -ap "$pw" \
        -timeout 20 -timeout_error -nostdin 127.0.0.1:"$port" >"$tmp/sipp.out" 2>&1
}
