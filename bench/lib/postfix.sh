# The Postfix instance of the benchmark: an alternate instance started
# with `postfix -c PF_DIR/conf`, with its own queue and data directories,
# its own loopback listener in master.cf, maillog_file, and virtual(8)
# Maildir delivery. Sourced, never run.
#
# master.cf is Debian's list of services with chroot off (a chroot would
# need copies of /etc files in the queue directory) and without the pipe
# transports; every process and concurrency limit is Postfix's default
# (default_process_limit = 100).

PF_CONF=

# pf_setup DIR PORT UID GID
pf_setup() {
    PF_DIR=$1 PF_PORT=$2 PF_CONF=$1/conf
    mkdir -p "$PF_CONF" "$PF_DIR/queue" "$PF_DIR/data" "$PF_DIR/mail"
    chown postfix:postfix "$PF_DIR/data"
    chmod 700 "$PF_DIR/data"
    chown "$3:$4" "$PF_DIR/mail"
    PF_MAIL=$PF_DIR/mail/user
    {
        echo "compatibility_level = 3.6"
        common_main_cf "$PF_DIR" "$PF_DIR/mail" "$3" "$4"
        echo "maillog_file_prefixes = $PF_DIR"
        echo "alias_maps ="
        echo "alias_database ="
        echo "biff = no"
    } >"$PF_CONF/main.cf"
    pf_master_cf >"$PF_CONF/master.cf"
    postfix -c "$PF_CONF" check >"$PF_DIR/check.log" 2>&1 ||
        fail "postfix check failed: $(cat "$PF_DIR/check.log")"
}

pf_master_cf() {
    cat <<CF
127.0.0.1:$PF_PORT inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
CF
}

pf_start() {
    ( acct_join postfix; exec postfix -c "$PF_CONF" start ) </dev/null >"$PF_DIR/start.log" 2>&1 ||
        fail "postfix did not start: $(cat "$PF_DIR/start.log"; tail -5 "$PF_DIR/maillog" 2>/dev/null)"
    wait_until 30 listening "$PF_PORT" ||
        fail "postfix does not listen on $PF_PORT: $(tail -5 "$PF_DIR/maillog" 2>/dev/null)"
}

# The master's pid (Postfix writes it space-padded).
pf_root() { tr -dc '0-9' <"$PF_DIR/queue/pid/master.pid" 2>/dev/null; }

pf_stop() {
    [ -n "$PF_CONF" ] && [ -f "$PF_CONF/main.cf" ] || return 0
    local root
    root=$(pf_root)
    [ -n "$root" ] && pid_alive "$root" || { PF_CONF=; return 0; }
    postfix -c "$PF_CONF" stop >/dev/null 2>&1
    wait_until 60 pf_gone "$root" || {
        say "postfix did not stop within 60 s; killing its processes"
        kill -KILL $(acct_pids postfix "$root") 2>/dev/null
    }
    PF_CONF=
}

# pf_gone ROOT: the master and, with a cgroup, every child have exited.
pf_gone() {
    ! pid_alive "$1" || return 1
    [ -z "${ACCT_DIR[postfix]:-}" ] || cgroup_empty "${ACCT_DIR[postfix]}"
}

pf_queue_empty() {
    [ -z "$(find "$PF_DIR/queue/incoming" "$PF_DIR/queue/active" "$PF_DIR/queue/maildrop" \
        -type f 2>/dev/null | head -1)" ]
}
