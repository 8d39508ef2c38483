# What bench/run.sh measures besides the load clients: CPU time of every
# process of a server instance, their memory (PSS), listen-queue
# overflows, and messages in a Maildir. Sourced, never run.
#
# CPU accounting puts each server in a cgroup of its own before it starts,
# so children that have exited are counted too:
#   cgroup2  a new group under the cgroup v2 mount; cpu.stat usage_usec
#   cgroup1  a new group under the v1 cpuacct hierarchy; cpuacct.usage (ns)
#   proc     no writable cgroup: walk the server's process tree in /proc and
#            add utime+stime+cutime+cstime of every live process. Children
#            that exited are in their parent's cutime/cstime once reaped;
#            both servers reap their children.
# ACCT_MODE forces one (cgroup2, cgroup1 or proc).

BENCH_LIB=${BENCH_LIB:-$(dirname "${BASH_SOURCE[0]}")}
ACCT_MODE=${ACCT_MODE:-}
declare -A ACCT_DIR=()

# The mount point of the first hierarchy of TYPE (with OPTION).
cgroup_mount() {
    awk -v t="$1" -v o="$2" '$3 == t && (o == "" || index("," $4 ",", "," o ",")) { print $2; exit }' \
        /proc/self/mounts
}

# acct_create NAME: makes NAME's group; sets ACCT_MODE on first use.
acct_create() {
    local name=$1 dir mnt mode
    for mode in ${ACCT_MODE:-cgroup2 cgroup1 proc}; do
        case $mode in
        cgroup2) mnt=$(cgroup_mount cgroup2 "") ;;
        cgroup1) mnt=$(cgroup_mount cgroup cpuacct) ;;
        proc) ACCT_MODE=proc; return 0 ;;
        *) fail "ACCT_MODE: unknown mode $mode" ;;
        esac
        [ -n "$mnt" ] || continue
        dir="$mnt/gatepost-bench-$$-$name"
        if mkdir "$dir" 2>/dev/null; then
            ACCT_MODE=$mode
            ACCT_DIR[$name]=$dir
            return 0
        fi
    done
    fail "no CPU accounting method works here"
}

# acct_join NAME: moves the calling (sub)shell into NAME's group; what it
# starts afterwards is accounted there.
acct_join() {
    local dir=${ACCT_DIR[$1]:-}
    [ -z "$dir" ] || echo "$BASHPID" >"$dir/cgroup.procs"
}

# acct_pids NAME ROOTPID: every live process of the instance.
acct_pids() {
    local dir=${ACCT_DIR[$1]:-}
    if [ -n "$dir" ]; then cat "$dir/cgroup.procs"; else python3 "$BENCH_LIB/procstat.py" tree "$2"; fi
}

# acct_cpu NAME ROOTPID: CPU seconds used by the instance so far.
acct_cpu() {
    local dir=${ACCT_DIR[$1]:-}
    case $ACCT_MODE in
    cgroup2) awk '$1 == "usage_usec" { printf "%.3f", $2 / 1e6 }' "$dir/cpu.stat" ;;
    cgroup1) awk '{ printf "%.3f", $1 / 1e9 }' "$dir/cpuacct.usage" ;;
    *) python3 "$BENCH_LIB/procstat.py" cpu $(acct_pids "$1" "$2") ;;
    esac
}

# acct_destroy NAME: removes the group once its processes are gone.
acct_destroy() {
    local dir=${ACCT_DIR[$1]:-}
    [ -n "$dir" ] && [ -d "$dir" ] || return 0
    wait_until 10 cgroup_empty "$dir" || say "warning: processes remain in $dir"
    rmdir "$dir" 2>/dev/null || say "warning: could not remove $dir"
}

cgroup_empty() { ! grep -q . "$1/cgroup.procs"; }

# pss_kib NAME ROOTPID: PSS of every process of the instance, in KiB.
pss_kib() { python3 "$BENCH_LIB/procstat.py" pss $(acct_pids "$1" "$2"); }

# nproc_of NAME ROOTPID: how many processes the instance has.
nproc_of() { acct_pids "$1" "$2" | grep -c .; }

# listen_overflows: TcpExtListenOverflows of this network namespace. Other
# programs' listeners count too; the bench listens only on loopback.
listen_overflows() {
    if command -v nstat >/dev/null; then
        nstat -asz TcpExtListenOverflows | awk '$1 == "TcpExtListenOverflows" { print $2; f = 1 } END { if (!f) print 0 }'
    else
        awk '$1 == "TcpExt:" { if (!h) { split($0, n); h = 1 } else { for (i = 2; i <= NF; i++) if (n[i] == "ListenOverflows") print $i } }' \
            /proc/net/netstat
    fi
}

# maildir_count DIR: messages in DIR/new.
maildir_count() { ls -U -A "$1/new" 2>/dev/null | wc -l; }
