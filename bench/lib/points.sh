# One measurement point of bench/run.sh: a load run at a given number of
# concurrent clients, or the idle-session run. Results go to $RAW as
# "server<TAB>clients<TAB>metric<TAB>value" lines; report.py turns them into
# the table. Sourced, never run; uses the instances of gatepost.sh and
# postfix.sh and the variables of run.sh.

DELIVERY_LIMIT=900     # seconds a point may wait for its messages to arrive
STALL_LIMIT=15         # give up when the queue is empty and nothing arrives

record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$RAW"; }

# srv_use SRV: S_PORT, S_MAIL, S_ROOT for SRV.
srv_use() {
    case $1 in
    postfix) S_PORT=$PF_PORT S_MAIL=$PF_MAIL S_ROOT=$(pf_root) ;;
    gatepost) S_PORT=$GP_PORT S_MAIL=$GP_MAIL S_ROOT=$(gp_root) ;;
    esac
}

queue_empty() { if [ "$1" = postfix ]; then pf_queue_empty; else gp_queue_empty; fi; }

# Gives the Maildir an empty new/ between runs, so both servers always
# write into a directory of the same size, and lets writeback settle. The
# old new/ is set aside, not emptied: on an ext4 file system without a
# journal (as on the benchmark machine) the inode allocator skips inodes
# freed in the last minute one by one, so deleting thousands of messages
# just before a run made every file the next run created cost a scan over
# them (a fifth of the accept rate at 10 clients). The set-aside
# directories go with the benchmark's temporary directory.
MAILDIR_ASIDE=0
maildir_clear() {
    if [ -d "$1/new" ]; then
        MAILDIR_ASIDE=$((MAILDIR_ASIDE + 1))
        mv "$1/new" "$1/.aside.$MAILDIR_ASIDE"
        install -d -m 700 -o "$(stat -c %u "$1")" -g "$(stat -c %g "$1")" "$1/new"
    fi
    sync
    sleep 1
}

# wait_delivered SRV: waits until $MESSAGES messages are in the Maildir and
# sets DELIVERED_AT to the time they were; returns 1 if they never all
# arrived (the queue stayed empty with messages missing for STALL_LIMIT s).
wait_delivered() {
    local srv=$1 start=${EPOCHREALTIME%.*} last=-1 stall=0 n
    while :; do
        n=$(maildir_count "$S_MAIL")
        if [ "$n" -ge "$MESSAGES" ]; then DELIVERED_AT=$(now); return 0; fi
        if [ "$n" -eq "$last" ] && queue_empty "$srv"; then
            stall=$((stall + 1))
            [ "$stall" -lt $((STALL_LIMIT * 20)) ] || break
        else
            stall=0
        fi
        last=$n
        [ $(( ${EPOCHREALTIME%.*} - start )) -lt "$DELIVERY_LIMIT" ] || break
        sleep 0.05
    done
    say "warning: $srv: only $n of $MESSAGES messages reached the Maildir"
    return 1
}

# Waits (bounded) until SRV has removed every delivered message.
drain() { wait_until 120 queue_empty "$1" || say "warning: $1: queue not empty after 120 s"; }

# smtp-source: accept rate, time to Maildir, overflows, CPU per message.
source_run() {
    local srv=$1 c=$2 o0 o1 cpu0 cpu1 t0 t1
    maildir_clear "$S_MAIL"
    o0=$(listen_overflows)
    cpu0=$(acct_cpu "$srv" "$S_ROOT")
    t0=$(now)
    run_child 1800 /usr/sbin/smtp-source -s "$c" -m "$MESSAGES" -l "$SIZE" -f "$BENCH_FROM" \
        -t "$BENCH_TO" -M "load.$BENCH_DOMAIN" "127.0.0.1:$S_PORT" >"$TMP/smtp-source.log" 2>&1 ||
        say "warning: smtp-source: $(tail -1 "$TMP/smtp-source.log")"
    t1=$(now)
    o1=$(listen_overflows)
    record "$srv" "$c" rate_ss "$(awk -v n="$MESSAGES" -v d="$(elapsed "$t0" "$t1")" 'BEGIN { printf "%.1f", n / d }')"
    record "$srv" "$c" ovf_ss $((o1 - o0))
    if wait_delivered "$srv"; then
        record "$srv" "$c" deliver_s "$(elapsed "$t0" "$DELIVERED_AT")"
    fi
    drain "$srv"
    cpu1=$(acct_cpu "$srv" "$S_ROOT")
    record "$srv" "$c" cpu_k "$(awk -v a="$cpu0" -v b="$cpu1" -v n="$MESSAGES" 'BEGIN { printf "%.3f", (b - a) * 1000 / n }')"
}

# get KEY FILE: the value of KEY=... on the last line of smtpload's output.
get() { tail -1 "$2" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2 }'; }

# smtpload: latency percentiles and its own accept rate.
latency_run() {
    local srv=$1 c=$2 o0 o1 out=$TMP/smtpload.out
    maildir_clear "$S_MAIL"
    o0=$(listen_overflows)
    run_child 1800 "$LOADGEN" -p "$S_PORT" -c "$c" -n "$MESSAGES" -s "$SIZE" -f "$BENCH_FROM" \
        -t "$BENCH_TO" >"$out" 2>"$TMP/smtpload.err" || say "warning: smtpload failed: $(cat "$TMP/smtpload.err")"
    o1=$(listen_overflows)
    [ ! -s "$TMP/smtpload.err" ] || say "$srv: $(cat "$TMP/smtpload.err")"
    record "$srv" "$c" rate_sl "$(get rate "$out")"
    record "$srv" "$c" p50 "$(get p50_ms "$out")"
    record "$srv" "$c" p99 "$(get p99_ms "$out")"
    record "$srv" "$c" fail_sl "$(get failed "$out")"
    record "$srv" "$c" ovf_sl $((o1 - o0))
    wait_delivered "$srv" || true
    drain "$srv"
}

# disk_run SRV CLIENTS: the disk alone, just before SRV's latency run: one
# writer committing like a queue (create, write, fsync file, fsync
# directory), DISK_PROBES times in the benchmark's own file system.
disk_run() {
    local out=$TMP/diskprobe.out
    [ "$DISK_PROBES" -gt 0 ] || return 0
    mkdir -p "$TMP/diskprobe"
    if run_child 300 "$DISKPROBE" "$TMP/diskprobe" "$DISK_PROBES" "$SIZE" >"$out" 2>&1; then
        record "$1" "$2" disk_p50 "$(get p50_ms "$out")"
        record "$1" "$2" disk_p99 "$(get p99_ms "$out")"
    else
        say "warning: diskprobe: $(tail -1 "$out")"
    fi
}

# load_point SRV CLIENTS REPEAT
load_point() {
    local before
    srv_use "$1"
    say "$1: $2 clients, $MESSAGES messages (repeat $3 of $REPEATS)"
    before=$(wc -l <"$RAW")
    source_run "$1" "$2"
    disk_run "$1" "$2"
    latency_run "$1" "$2"
    say "$1: $2 clients: $(tail -n +$((before + 1)) "$RAW" | awk -F'\t' '{ printf "%s=%s ", $3, $4 }')"
}

# idle_point SRV COUNT: COUNT connected-and-EHLO'd sessions held open;
# how many the server keeps, and the PSS of all its processes meanwhile.
idle_point() {
    local srv=$1 n=$2 out=$TMP/idle-$1.out pss0 pss1 procs held
    srv_use "$srv"
    say "$srv: idle sessions (offering $n)"
    pss0=$(pss_kib "$srv" "$S_ROOT")
    "$LOADGEN" -p "$S_PORT" -i "$n" -c 500 -T 15 -w 600 >"$out" 2>"$TMP/idle.err" &
    LOAD_PID=$!
    wait_until 900 grep -q '^held=' "$out" || say "warning: $srv: idle sessions never settled"
    sleep 2
    pss1=$(pss_kib "$srv" "$S_ROOT")
    procs=$(nproc_of "$srv" "$S_ROOT")
    kill -TERM "$LOAD_PID" 2>/dev/null || true
    wait "$LOAD_PID" 2>/dev/null || true
    LOAD_PID=
    held=$(grep '^still_held=' "$out" | sed 's/^still_held=\([0-9]*\).*/\1/')
    held=${held:-0}
    record "$srv" idle offered "$n"
    record "$srv" idle held "$held"
    record "$srv" idle pss_mb "$(awk -v k="$pss1" 'BEGIN { printf "%.1f", k / 1024 }')"
    record "$srv" idle pss_base_mb "$(awk -v k="$pss0" 'BEGIN { printf "%.1f", k / 1024 }')"
    if [ "$held" -gt 0 ]; then
        record "$srv" idle kb_session "$(awk -v a="$pss0" -v b="$pss1" -v h="$held" 'BEGIN { printf "%.1f", (b - a) / h }')"
    fi
    record "$srv" idle procs "$procs"
    say "$srv: held $held of $n idle sessions; PSS $((pss1 / 1024)) MB in $procs processes"
    sleep 2
}

describe_machine() {
    echo "gatepost $GP_VERSION vs Postfix $(postconf -d -h mail_version)"
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "machine: $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r)"
    echo "disk: $(findmnt -n -o SOURCE,FSTYPE -T "$TMP" | tr -s ' ') under $TMP"
    ! has postfix ||
        echo "Postfix: default_process_limit = $(postconf -c "$PF_CONF" -h default_process_limit), its other limits at their defaults"
    ! has gatepost ||
        echo "gatepost: smtpd_workers = $("$GP_BIN" -c "$GP_DIR" config -h smtpd_workers) (0: one per CPU), smtpd_connection_limit = $("$GP_BIN" -c "$GP_DIR" config -h smtpd_connection_limit)"
}
