#!/bin/bash
# Where gatepost spends CPU under the plain benchmark load: starts the
# bench's gatepost instance (bench/lib/gatepost.sh, same main.cf), warms it
# up, samples every one of its processes and threads with `perf record`
# (call chains, cpu-clock) while smtpload sends N messages from C clients,
# and prints the CPU used and a summary (bench/lib/perfsum.py). See
# bench/README.md.
#
#   bench/profile.sh [-c 50] [-n 8000] [-s 4096] [-F 499] [-o FILE.data]
#
# Runs as root after a build by bench/run.sh (BENCH_BUILD_DIR, default
# build-bench). Needs perf (Debian: linux-perf). Traffic goes only to
# 127.0.0.1; the instance and its directory are removed at the end.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH_LIB=$ROOT/bench/lib
. "$BENCH_LIB/common.sh"
. "$BENCH_LIB/measure.sh"
. "$BENCH_LIB/mailcf.sh"
. "$BENCH_LIB/gatepost.sh"

CLIENTS=50 MESSAGES=8000 SIZE=4096 FREQ=499 DATA=
while [ $# -gt 0 ]; do
    case $1 in
    -c) CLIENTS=$2; shift ;;
    -n) MESSAGES=$2; shift ;;
    -s) SIZE=$2; shift ;;
    -F) FREQ=$2; shift ;;
    -o) DATA=$2; shift ;;
    *) sed -n '8p' "$0" >&2; exit 2 ;;
    esac
    shift
done
for v in $CLIENTS $MESSAGES $SIZE $FREQ; do [[ $v =~ ^[0-9]+$ ]] || fail "not a number: $v"; done
[ "$(id -u)" -eq 0 ] || fail "run as root (mailbox owner, perf on other users' processes)"
command -v perf >/dev/null || fail "perf is needed (Debian: apt-get install linux-perf)"
BUILD_DIR=${BENCH_BUILD_DIR:-build-bench}
GP_BIN=$ROOT/$BUILD_DIR/gatepost
LOADGEN=$ROOT/$BUILD_DIR/smtpload
[ -x "$GP_BIN" ] && [ -x "$LOADGEN" ] || fail "build first: bench/run.sh builds $BUILD_DIR"

TMP=$(mktemp -d "${BENCH_TMP:-/var/tmp}/gatepost-profile.XXXXXX")
chmod 755 "$TMP"
DATA=${DATA:-$TMP/perf.data}
PERF_PID=
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    [ -z "$PERF_PID" ] || kill -INT "$PERF_PID" 2>/dev/null || true
    gp_stop || true
    acct_destroy gatepost || true
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

MAIL_UID=$(id -u gatepost) MAIL_GID=$(id -g gatepost)
acct_create gatepost
gp_setup "$TMP/gatepost" "$(free_port 21025)" "$MAIL_UID" "$MAIL_GID" $((CLIENTS + 1000))
gp_start
say "gatepost listens on 127.0.0.1:$GP_PORT; warming up"
run_child 600 "$LOADGEN" -p "$GP_PORT" -c "$CLIENTS" -n 1000 -s "$SIZE" >/dev/null
wait_until 120 gp_queue_empty || say "warning: queue not empty after the warm-up"

pids=$(acct_pids gatepost "$GP_PID" | paste -sd,)
perf record -q -F "$FREQ" -g -o "$DATA" -p "$pids" >"$TMP/perf.log" 2>&1 &
PERF_PID=$!
sleep 1
pid_alive "$PERF_PID" || fail "perf record did not start: $(cat "$TMP/perf.log")"
cpu0=$(acct_cpu gatepost "$GP_PID")
say "profiling: $CLIENTS clients, $MESSAGES messages"
run_child 1800 "$LOADGEN" -p "$GP_PORT" -c "$CLIENTS" -n "$MESSAGES" -s "$SIZE" >"$TMP/load.out"
wait_until 120 gp_queue_empty || say "warning: queue not empty after the run"
cpu1=$(acct_cpu gatepost "$GP_PID")
kill -INT "$PERF_PID"
wait "$PERF_PID" || true
PERF_PID=

echo "gatepost $(git describe --always --dirty 2>/dev/null || echo unknown), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "smtpload: $(tail -1 "$TMP/load.out")"
awk -v a="$cpu0" -v b="$cpu1" -v n="$MESSAGES" \
    'BEGIN { printf "server CPU: %.2f s, %.2f s / 1000 msgs (accepting and delivering)\n", b - a, (b - a) * 1000 / n }'
perf script -i "$DATA" -F comm,tid,ip,sym,dso >"$TMP/perf.txt" 2>/dev/null
python3 "$BENCH_LIB/perfsum.py" "$TMP/perf.txt"
[ "$DATA" = "$TMP/perf.data" ] || say "samples kept in $DATA (perf report -i $DATA)"
