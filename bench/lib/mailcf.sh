# main.cf lines both servers share, so that they do the same work: accept
# mail for one virtual domain from loopback and deliver it into a Maildir
# owned by an unprivileged user. Sourced, never run.
#
# Recipient: user@bench.example -> BASE/user/ (Maildir, trailing slash).
# No DNS: smtpd_peername_lookup = no on both (no PTR lookups of 127.0.0.1).

BENCH_DOMAIN=bench.example
BENCH_FROM=sender@load.bench.example
BENCH_TO=user@$BENCH_DOMAIN

# common_main_cf DIR MAILBASE UID GID: the shared main.cf lines.
common_main_cf() {
    local dir=$1 base=$2 uid=$3 gid=$4
    cat <<CF
myhostname = mx.$BENCH_DOMAIN
mydomain = $BENCH_DOMAIN
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
mynetworks = 127.0.0.0/8
relayhost =
smtpd_peername_lookup = no
queue_directory = $dir/queue
data_directory = $dir/data
maillog_file = $dir/maillog
virtual_mailbox_domains = $BENCH_DOMAIN
virtual_mailbox_base = $base
virtual_mailbox_maps = inline:{ $BENCH_TO=user/ }
virtual_uid_maps = static:$uid
virtual_gid_maps = static:$gid
virtual_minimum_uid = 1
CF
}
