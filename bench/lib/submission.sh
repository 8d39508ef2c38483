# The authenticated-submission part of bench/run.sh (--auth): STARTTLS and
# AUTH PLAIN, one message per connection, into the same virtual Maildir as
# the plain benchmark. Sourced, never run.
#
# Each server gets a second listener, a submission service in master.cf
# with the lines of conf/master.cf:
#   smtpd_tls_security_level=encrypt, smtpd_sasl_auth_enable=yes,
#   smtpd_relay_restrictions=permit_sasl_authenticated,reject
# and both share one throw-away certificate (RSA 2048, self-signed).
#
# Passwords: the hash cost dominates an AUTH PLAIN, so both sides check
# the same scheme at the same cost. gatepost's user database keeps a
# yescrypt hash made by `gatepost user add` at its default cost; Postfix
# asks a Dovecot started here (in Postfix's accounting group, so its CPU
# counts as Postfix's) on a socket in Postfix's queue directory, with a
# passwd-file passdb holding {CRYPT} yescrypt at the same cost (Dovecot's
# CRYPT scheme is crypt(3), libxcrypt on Debian). SUB_SCHEMES says what
# each side really stored. Neither side caches authentication results
# (Dovecot: auth_cache_size = 0, its default).

SUB_USER=bench@$BENCH_DOMAIN
SUB_PASS=bench-pass-0123456789
SUB_COST=4              # libxcrypt yescrypt cost: gatepost's default
DC_PID=
DC_DIR=

# sub_cert DIR: DIR/cert.pem and DIR/key.pem.
sub_cert() {
    mkdir -p "$1"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=mx.$BENCH_DOMAIN" \
        -keyout "$1/key.pem" -out "$1/cert.pem" >"$1/openssl.log" 2>&1 ||
        fail "openssl req: $(cat "$1/openssl.log")"
    chmod 600 "$1/key.pem"
    chmod 644 "$1/cert.pem"
}

# sub_master_line ADDR:PORT: the submission service of both master.cf files.
sub_master_line() {
    echo "$1 inet n - n - - smtpd"
    echo "  -o smtpd_tls_security_level=encrypt"
    echo "  -o smtpd_sasl_auth_enable=yes"
    echo "  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject"
}

sub_tls_main_cf() {
    echo "smtpd_tls_cert_file = $1/cert.pem"
    echo "smtpd_tls_key_file = $1/key.pem"
}

# gp_sub_setup CERTDIR PORT: gatepost's submission service and user.
gp_sub_setup() {
    GP_SUB_PORT=$2
    sub_tls_main_cf "$1" >>"$GP_DIR/main.cf"
    sub_master_line "127.0.0.1:$GP_SUB_PORT" >>"$GP_DIR/master.cf"
    "$GP_BIN" -c "$GP_DIR" user add "$SUB_USER" <<<"$SUB_PASS" >"$GP_DIR/user.log" 2>&1 ||
        fail "gatepost user add: $(cat "$GP_DIR/user.log")"
    "$GP_BIN" -c "$GP_DIR" config check >"$GP_DIR/check.log" 2>&1 ||
        fail "gatepost rejects its submission configuration: $(cat "$GP_DIR/check.log")"
    # The yescrypt setting as stored ("$y$j8T$" is cost 4), read from the
    # database at its default place, $config_directory/sasl_users.lmdb.
    local setting
    setting=$( { grep -a -o -m1 '\$y\$[./0-9A-Za-z]*\$' "$GP_DIR/sasl_users.lmdb" 2>/dev/null || true; } | head -1)
    SUB_SCHEMES="${SUB_SCHEMES:+$SUB_SCHEMES; }gatepost: built-in user database, yescrypt ${setting:-(setting not found)}"
}

# pf_sub_setup CERTDIR PORT: Postfix's submission service with Dovecot SASL.
pf_sub_setup() {
    PF_SUB_PORT=$2
    {
        sub_tls_main_cf "$1"
        echo "smtpd_sasl_type = dovecot"
        echo "smtpd_sasl_path = private/auth"
    } >>"$PF_CONF/main.cf"
    sub_master_line "127.0.0.1:$PF_SUB_PORT" >>"$PF_CONF/master.cf"
    postfix -c "$PF_CONF" check >"$PF_DIR/check.log" 2>&1 ||
        fail "postfix check (submission) failed: $(cat "$PF_DIR/check.log")"
    dc_setup "$PF_DIR/dovecot" "$PF_DIR/queue/private/auth"
    SUB_SCHEMES="${SUB_SCHEMES:+$SUB_SCHEMES; }Postfix: Dovecot $(dovecot --version | cut -d' ' -f1) passwd-file, {CRYPT} yescrypt $DC_SETTING"
}

# yescrypt_hash PASSWORD COST: crypt(3) through libxcrypt, as gatepost does.
yescrypt_hash() {
    python3 - "$1" "$2" <<'PY'
import ctypes, ctypes.util, sys
lib = ctypes.CDLL(ctypes.util.find_library("crypt"))
lib.crypt_gensalt.restype = ctypes.c_char_p
lib.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
lib.crypt.restype = ctypes.c_char_p
lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
setting = lib.crypt_gensalt(b"$y$", int(sys.argv[2]), None, 0)
h = lib.crypt(sys.argv[1].encode(), setting) if setting else None
if not h or not h.startswith(b"$y$"):
    sys.exit("libxcrypt made no yescrypt hash")
print(h.decode())
PY
}

# dc_setup DIR SOCKET: Dovecot's configuration, auth only.
dc_setup() {
    DC_DIR=$1
    local sock=$2 hash
    mkdir -p "$DC_DIR"
    chmod 755 "$DC_DIR"
    hash=$(yescrypt_hash "$SUB_PASS" "$SUB_COST") || fail "cannot make the Dovecot password hash"
    DC_SETTING=$(sed 's/^\(\$y\$[^$]*\$\).*/\1/' <<<"$hash")
    echo "$SUB_USER:{CRYPT}$hash" >"$DC_DIR/passwd"
    chmod 644 "$DC_DIR/passwd"
    cat >"$DC_DIR/dovecot.conf" <<CF
base_dir = $DC_DIR/run
state_dir = $DC_DIR/state
log_path = $DC_DIR/dovecot.log
protocols =
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
auth_cache_size = 0
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
passdb {
  driver = passwd-file
  args = $DC_DIR/passwd
}
userdb {
  driver = static
  args = uid=$MAIL_UID gid=$MAIL_GID home=/nonexistent
}
service auth {
  unix_listener $sock {
    mode = 0660
    user = postfix
    group = postfix
  }
}
CF
    DC_SOCK=$sock
}

sock_ready() { [ -S "$1" ] && python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])' "$1" 2>/dev/null; }

# dc_start: Dovecot in the foreground of a session of its own, accounted
# as part of Postfix.
dc_start() {
    command -v dovecot >/dev/null || fail "Dovecot is needed for --auth: scripts/install-deps.sh --test"
    ( acct_join postfix; exec setsid dovecot -F -c "$DC_DIR/dovecot.conf" ) \
        </dev/null >"$DC_DIR/stderr" 2>&1 &
    DC_PID=$!
    wait_until 30 sock_ready "$DC_SOCK" && pid_alive "$DC_PID" ||
        fail "Dovecot did not start: $(tail -5 "$DC_DIR/stderr" "$DC_DIR/dovecot.log" 2>/dev/null)"
}

dc_gone() { ! pid_alive "$DC_PID" && ! pgrep -s "$DC_PID" >/dev/null; }

# dc_stop: SIGTERM to Dovecot's whole process group (its own, from
# setsid), as systemd does: its auth process would otherwise go on serving
# the smtpd processes connected to it after the master has gone.
dc_stop() {
    [ -n "$DC_PID" ] || return 0
    kill -TERM -- "-$DC_PID" 2>/dev/null
    wait_until 30 dc_gone || {
        say "Dovecot did not stop within 30 s; killing its processes"
        kill -KILL -- "-$DC_PID" 2>/dev/null
    }
    wait "$DC_PID" 2>/dev/null
    DC_PID=
}

# sub_cpu SRV: CPU seconds of SRV's instance, Dovecot included for Postfix
# (with a cgroup it is in Postfix's group already).
sub_cpu() {
    local cpu extra=0
    cpu=$(acct_cpu "$1" "$S_ROOT")
    if [ "$1" = postfix ] && [ "$ACCT_MODE" = proc ] && [ -n "$DC_PID" ]; then
        extra=$(python3 "$BENCH_LIB/procstat.py" cpu $(python3 "$BENCH_LIB/procstat.py" tree "$DC_PID"))
    fi
    awk -v a="$cpu" -v b="$extra" 'BEGIN { printf "%.3f", a + b }'
}

# sub_point SRV CLIENTS REPEAT: one authenticated-submission run; figures
# go to $RAW under clients "sub:CLIENTS".
sub_point() {
    local srv=$1 c=$2 key=sub:$2 port out=$TMP/smtpload-sub.out cpu0 cpu1 t0
    srv_use "$srv"
    if [ "$srv" = postfix ]; then port=$PF_SUB_PORT; else port=$GP_SUB_PORT; fi
    say "$srv: submission, $c clients, $SUB_MESSAGES messages (repeat $3 of $REPEATS)"
    maildir_clear "$S_MAIL"
    cpu0=$(sub_cpu "$srv")
    t0=$(now)
    run_child 1800 "$LOADGEN" -p "$port" -c "$c" -n "$SUB_MESSAGES" -s "$SIZE" -f "$BENCH_FROM" \
        -t "$BENCH_TO" -S -A "$SUB_USER:$SUB_PASS" >"$out" 2>"$TMP/smtpload-sub.err" ||
        say "warning: smtpload failed: $(cat "$TMP/smtpload-sub.err")"
    [ ! -s "$TMP/smtpload-sub.err" ] || say "$srv: $(cat "$TMP/smtpload-sub.err")"
    record "$srv" "$key" rate_sl "$(get rate "$out")"
    record "$srv" "$key" p50 "$(get p50_ms "$out")"
    record "$srv" "$key" p99 "$(get p99_ms "$out")"
    record "$srv" "$key" fail_sl "$(get failed "$out")"
    local saved=$MESSAGES
    MESSAGES=$(get sent "$out")
    MESSAGES=${MESSAGES:-$SUB_MESSAGES}
    if [ "$MESSAGES" -gt 0 ] && wait_delivered "$srv"; then
        record "$srv" "$key" deliver_s "$(elapsed "$t0" "$DELIVERED_AT")"
    fi
    MESSAGES=$saved
    drain "$srv"
    cpu1=$(sub_cpu "$srv")
    record "$srv" "$key" cpu_k "$(awk -v a="$cpu0" -v b="$cpu1" -v n="$SUB_MESSAGES" 'BEGIN { printf "%.3f", (b - a) * 1000 / n }')"
    say "$srv: submission, $c clients: $(tail -1 "$out")"
}
