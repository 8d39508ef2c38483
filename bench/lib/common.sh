# Shared helpers for bench/run.sh: messages, clocks, bounded waits, free
# loopback ports. Sourced, never run. Every wait here has an explicit
# limit so a stuck server cannot hang the benchmark.

say() { printf '%s bench: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
fail() { say "error: $*"; exit 1; }

# Wall clock in seconds with microseconds (bash 5).
now() { printf '%s' "$EPOCHREALTIME"; }

# elapsed START [END]: seconds between two now() values.
elapsed() { awk -v a="$1" -v b="${2:-$EPOCHREALTIME}" 'BEGIN { printf "%.3f", b - a }'; }

# wait_until SECONDS CMD...: runs CMD every 50 ms until it succeeds;
# returns 1 if it never did within SECONDS.
wait_until() {
    local limit=$1; shift
    local end=$(( ${EPOCHREALTIME%.*} + limit ))
    while ! "$@"; do
        [ "${EPOCHREALTIME%.*}" -lt "$end" ] || return 1
        sleep 0.05
    done
}

# port_in_use PORT: something listens on or uses 127.0.0.1:PORT.
port_in_use() { ss -Htan "sport = :$1" | grep -q .; }

# free_port FIRST: the first free TCP port from FIRST, at most 200 tried.
free_port() {
    local p=$1 i
    for (( i = 0; i < 200; i++, p++ )); do
        port_in_use "$p" || { echo "$p"; return 0; }
    done
    fail "no free port in $1..$p"
}

# listening PORT: a listener accepts on 127.0.0.1:PORT.
listening() { ss -Hltn "sport = :$1" | grep -q .; }

# pid_alive PID
pid_alive() { kill -0 "$1" 2>/dev/null; }

# run_child SECONDS CMD...: runs CMD (at most SECONDS) as a background
# child and waits for it, so that a signal to the benchmark is handled at
# once (bash defers traps while a foreground command runs) and the cleanup
# can stop the child by its pid (CHILD_PID).
CHILD_PID=
run_child() {
    local limit=$1 rc=0; shift
    timeout "$limit" "$@" &
    CHILD_PID=$!
    wait "$CHILD_PID" || rc=$?
    CHILD_PID=
    return "$rc"
}
