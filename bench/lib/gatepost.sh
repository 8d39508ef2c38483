# The gatepost instance of the benchmark: configuration, start, stop, and
# its queue. Sourced, never run. The instance lives in GP_DIR (main.cf,
# master.cf, queue, data, mail, maillog) and runs `gatepost -c GP_DIR serve`
# in the foreground, in its own accounting group (see measure.sh).

GP_PID=

# gp_setup DIR PORT UID GID CONNLIMIT
gp_setup() {
    GP_DIR=$1 GP_PORT=$2
    mkdir -p "$GP_DIR/mail"
    chown "$3:$4" "$GP_DIR/mail"
    GP_MAIL=$GP_DIR/mail/user
    {
        common_main_cf "$GP_DIR" "$GP_DIR/mail" "$3" "$4"
        echo "smtpd_connection_limit = $5"
    } >"$GP_DIR/main.cf"
    echo "127.0.0.1:$GP_PORT inet n - n - - smtpd" >"$GP_DIR/master.cf"
    "$GP_BIN" -c "$GP_DIR" config check >"$GP_DIR/check.log" 2>&1 ||
        fail "gatepost rejects its configuration: $(cat "$GP_DIR/check.log")"
}

gp_start() {
    # A session of its own: a Ctrl-C at the terminal reaches the benchmark,
    # which then stops the server in order.
    ( acct_join gatepost; exec setsid "$GP_BIN" -c "$GP_DIR" serve ) \
        </dev/null >"$GP_DIR/stderr" 2>&1 &
    GP_PID=$!
    wait_until 30 listening "$GP_PORT" && pid_alive "$GP_PID" ||
        fail "gatepost did not start: $(tail -5 "$GP_DIR/stderr" "$GP_DIR/maillog" 2>/dev/null)"
}

gp_stop() {
    [ -n "$GP_PID" ] || return 0
    kill -TERM "$GP_PID" 2>/dev/null
    wait_until 60 gp_gone || {
        say "gatepost did not stop within 60 s; killing its processes"
        kill -KILL $(acct_pids gatepost "$GP_PID") 2>/dev/null
    }
    wait "$GP_PID" 2>/dev/null
    GP_PID=
}

gp_gone() { ! pid_alive "$GP_PID"; }

# gp_queue_empty: nothing committed is waiting for delivery.
gp_queue_empty() { [ -z "$(find "$GP_DIR/queue/incoming" "$GP_DIR/queue/active" -type f 2>/dev/null | head -1)" ]; }

gp_root() { echo "$GP_PID"; }
