# Shared by the system tests: source it after `cd` to the repository root.
# Gives a scratch folder ($tmp), the check counter, a free loopback port,
# and stops the server ($pid) and removes $tmp on exit, whatever happens.
#
#   check NAME STATUS   count a pass (STATUS 0) or print "FAIL NAME"
#   summary SUITE       print "SUITE: N passed, M failed"; status 0 if none failed
#   free_port           a free UDP port on 127.0.0.1 (TCP uses the same number)

tmp=$(mktemp -d)
pass=0
fail=0
pid=""

lib_cleanup() {
    [[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap lib_cleanup EXIT

check() {
    if [[ "$2" -eq 0 ]]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1"; fi
}

summary() {
    echo "$1: $pass passed, $fail failed"
    [[ $fail -eq 0 ]]
}

free_port() {
    python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
