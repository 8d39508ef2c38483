#!/bin/bash
# Benchmarks gatepost against Postfix on this machine, side by side, in one
# run: accept rate, time to Maildir, listen-queue overflows, CPU per message,
# latency, and idle sessions with their memory; with --auth also
# authenticated submission (STARTTLS + AUTH PLAIN). See bench/README.md.
#
#   bench/run.sh [-c "1 10 50 200"] [-n 5000] [-s 4096] [-r 3] [-i 10000]
#                [-I 1000] [-S "postfix gatepost"] [--rev REV] [--no-install] [--no-build]
#                [--auth [-a "10 50"] [-m 500]]
#
# Runs as root (Postfix's alternate instance, cgroups, mailbox owners).
# Traffic goes only to 127.0.0.1. Both servers are stopped and the
# temporary directory removed at the end, also on failure or Ctrl-C.
# Not part of scripts/test.sh: it takes minutes and measures, not checks.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH_LIB=$ROOT/bench/lib
. "$BENCH_LIB/common.sh"
. "$BENCH_LIB/measure.sh"
. "$BENCH_LIB/mailcf.sh"
. "$BENCH_LIB/gatepost.sh"
. "$BENCH_LIB/postfix.sh"
. "$BENCH_LIB/points.sh"
. "$BENCH_LIB/submission.sh"

CLIENTS="1 10 50 200"
MESSAGES=5000
DISK_PROBES=${BENCH_DISK_PROBES:-1000}
SIZE=4096
REPEATS=3
IDLE_GP=10000
IDLE_PF=1000
INSTALL=yes
BUILD=yes
BUILD_DIR=${BENCH_BUILD_DIR:-build-bench}
REV=
SERVERS="postfix gatepost"
AUTH=no
SUB_CLIENTS="10 50"
SUB_MESSAGES=500
PF_SUB_PORT= GP_SUB_PORT= SUB_SCHEMES=

usage() {
    sed -n '7,9p' "$0" >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case $1 in
    -c) CLIENTS=$2; shift ;;
    -n) MESSAGES=$2; shift ;;
    -s) SIZE=$2; shift ;;
    -r) REPEATS=$2; shift ;;
    -i) IDLE_GP=$2; shift ;;
    -I) IDLE_PF=$2; shift ;;
    -S) SERVERS=$2; shift ;;
    --rev) REV=$2; shift ;;
    --no-install) INSTALL=no ;;
    --no-build) BUILD=no ;;
    --auth) AUTH=yes ;;
    -a) SUB_CLIENTS=$2; shift ;;
    -m) SUB_MESSAGES=$2; shift ;;
    *) usage ;;
    esac
    shift
done
for v in $CLIENTS $MESSAGES $SIZE $REPEATS $IDLE_GP $IDLE_PF $SUB_CLIENTS $SUB_MESSAGES $DISK_PROBES; do
    [[ $v =~ ^[0-9]+$ ]] || fail "not a number: $v"
done
for s in $SERVERS; do
    case $s in postfix|gatepost) ;; *) fail "-S: unknown server $s" ;; esac
done
has() { [[ " $SERVERS " == *" $1 "* ]]; }
[ "$(id -u)" -eq 0 ] || fail "run as root (Postfix instance, cgroups, mailbox owners)"

# ---- dependencies and build ----

if [ "$INSTALL" = yes ]; then
    say "installing dependencies (scripts/install-deps.sh --bench)"
    ./scripts/install-deps.sh --bench
fi
command -v postfix >/dev/null && [ -x /usr/sbin/smtp-source ] ||
    fail "Postfix and smtp-source are needed: scripts/install-deps.sh --bench"
# --rev REV measures a committed revision, exported next to the build
# directory, instead of the working tree.
SRC=$ROOT
if [ -n "$REV" ]; then
    SRC=$ROOT/$BUILD_DIR-src
    BUILD_DIR=$BUILD_DIR-src/build
fi
GP_BIN=$ROOT/$BUILD_DIR/gatepost
LOADGEN=$ROOT/$BUILD_DIR/smtpload
DISKPROBE=$ROOT/$BUILD_DIR/diskprobe
if [ "$BUILD" = yes ]; then
    if [ -n "$REV" ]; then
        say "exporting $REV to $SRC"
        rm -rf "$SRC"
        mkdir -p "$SRC"
        git archive "$REV" | tar -x -C "$SRC"
    fi
    say "building gatepost (release) in $BUILD_DIR"
    # A measuring build: warnings are policed by the test builds.
    (cd "$SRC" && ./scripts/build.sh "$ROOT/$BUILD_DIR" --buildtype=release -Dtests=false -Dwerror=false)
    cc -O2 -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -o "$LOADGEN" bench/loadgen/smtpload.c \
        -lssl -lcrypto
    cc -O2 -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -o "$DISKPROBE" bench/loadgen/diskprobe.c
fi
GP_VERSION=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)
[ -z "$REV" ] || GP_VERSION=$(git -C "$ROOT" rev-parse --short "$REV")
[ -x "$GP_BIN" ] && [ -x "$LOADGEN" ] && [ -x "$DISKPROBE" ] || fail "build first (without --no-build)"

# ---- instances ----

TMP=$(mktemp -d "${BENCH_TMP:-/var/tmp}/gatepost-bench.XXXXXX")
chmod 755 "$TMP"
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    [ -z "${LOAD_PID:-}" ] || kill -TERM "$LOAD_PID" 2>/dev/null || true
    [ -z "${CHILD_PID:-}" ] || kill -TERM "$CHILD_PID" 2>/dev/null || true
    gp_stop || true
    # Dovecot first: it shares Postfix's accounting group, whose emptiness
    # pf_stop waits for.
    dc_stop || true
    pf_stop || true
    acct_destroy gatepost || true
    acct_destroy postfix || true
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Descriptors for the idle sessions (server and client side), with room.
need_fd=$(( (IDLE_GP > IDLE_PF ? IDLE_GP : IDLE_PF) + 4096 ))
if [ "$(ulimit -n)" -lt "$need_fd" ]; then
    ulimit -n "$need_fd" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fi
MAIL_UID=$(id -u gatepost) MAIL_GID=$(id -g gatepost)

PF_PORT=$(free_port 20025)
GP_PORT=$(free_port $((PF_PORT + 1)))
if [ "$AUTH" = yes ]; then
    PF_SUB_PORT=$(free_port $((GP_PORT + 1)))
    GP_SUB_PORT=$(free_port $((PF_SUB_PORT + 1)))
    sub_cert "$TMP/tls"
fi
if has postfix; then
    acct_create postfix
    pf_setup "$TMP/postfix" "$PF_PORT" "$MAIL_UID" "$MAIL_GID"
    if [ "$AUTH" = yes ]; then
        pf_sub_setup "$TMP/tls" "$PF_SUB_PORT"
        dc_start
    fi
    pf_start
    say "Postfix listens on 127.0.0.1:$PF_PORT${PF_SUB_PORT:+ (submission: $PF_SUB_PORT)}"
fi
if has gatepost; then
    acct_create gatepost
    gp_setup "$TMP/gatepost" "$GP_PORT" "$MAIL_UID" "$MAIL_GID" $((IDLE_GP + 1000))
    [ "$AUTH" = no ] || gp_sub_setup "$TMP/tls" "$GP_SUB_PORT"
    gp_start
    [ "$AUTH" = no ] || wait_until 30 listening "$GP_SUB_PORT" || fail "gatepost's submission port is not listening"
    say "gatepost listens on 127.0.0.1:$GP_PORT${GP_SUB_PORT:+ (submission: $GP_SUB_PORT)}"
fi
[ "$AUTH" = no ] || say "password schemes: $SUB_SCHEMES"

say "CPU accounting: $ACCT_MODE"

# ---- measurements ----

STAMP=$(date +%Y%m%d-%H%M%S)
RAW=$TMP/raw.tsv
: >"$RAW"
describe_machine >"$TMP/machine.txt"
for (( rep = 1; rep <= REPEATS; rep++ )); do
    for c in $CLIENTS; do
        # Alternate which server goes first so drift hits both alike.
        if (( rep % 2 )); then order="postfix gatepost"; else order="gatepost postfix"; fi
        for srv in $order; do
            ! has "$srv" || load_point "$srv" "$c" "$rep"
        done
    done
    [ "$AUTH" = yes ] || continue
    for c in $SUB_CLIENTS; do
        if (( rep % 2 )); then order="postfix gatepost"; else order="gatepost postfix"; fi
        for srv in $order; do
            ! has "$srv" || sub_point "$srv" "$c" "$rep"
        done
    done
done
! has postfix || [ "$IDLE_PF" -eq 0 ] || idle_point postfix "$IDLE_PF"
! has gatepost || [ "$IDLE_GP" -eq 0 ] || idle_point gatepost "$IDLE_GP"

# ---- report ----

mkdir -p bench/results
OUT=bench/results/$STAMP.txt
{
    cat "$TMP/machine.txt"
    echo "runs: $REPEATS x clients {$CLIENTS}, $MESSAGES messages of $SIZE bytes each, one connection per message"
    if [ "$AUTH" = yes ]; then
        echo "submission: $REPEATS x clients {$SUB_CLIENTS}, $SUB_MESSAGES messages of $SIZE bytes each, one connection per message:"
        echo "  EHLO, STARTTLS (full TLS handshake, no resumption, RSA 2048 certificate), EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT"
        echo "  password schemes: $SUB_SCHEMES"
    fi
    echo "CPU accounting: $ACCT_MODE; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    python3 "$BENCH_LIB/report.py" "$RAW"
} | tee "$OUT"
cp "$RAW" "bench/results/$STAMP.tsv"
say "results written to $OUT (raw figures: bench/results/$STAMP.tsv)"
