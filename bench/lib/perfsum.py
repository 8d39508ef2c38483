#!/usr/bin/env python3
"""Summarises `perf script -F comm,tid,ip,sym,dso` output for bench/profile.sh.

  perfsum.py SCRIPT.txt

Prints the share of samples by thread name, by way into the kernel (the
libc function that made the system call, or interrupt work, or user code),
by both, and the user-space functions with the most samples. Release
builds keep no frame pointers, so user-space call chains stop at libc;
the system call a sample sits under is still known from the kernel side
of its chain, which is where a mail server's time mostly goes."""

import collections
import re
import sys

FRAME = re.compile(r"\S+\s+(.*)\s+\((.*)\)$")


def frames(lines):
    out = []
    for line in lines:
        m = FRAME.match(line)
        if m:
            out.append((m.group(1).split("+")[0].strip(), m.group(2)))
    return out


# What a read or write system call works on, told by the kernel functions
# under it: the first of these found names it.
TARGETS = (("tcp_", "TCP"), ("unix_", "unix socket"), ("ext4_", "file"), ("pipe_", "pipe"))


def target(fr):
    for sym, _ in fr:
        for prefix, name in TARGETS:
            if sym.startswith(prefix):
                return " (%s)" % name
    return ""


def classify(fr):
    for i, (sym, _) in enumerate(fr):
        if sym.startswith("entry_SYSCALL_64"):
            caller = fr[i + 1][0] if i + 1 < len(fr) else "?"
            hint = target(fr[:i]) if re.search(r"write|read|send|recv", caller) else ""
            return "system call from " + caller + hint
    if "kernel" in fr[0][1]:
        names = [s for s, _ in fr]
        if any(n in ("net_rx_action", "tcp_v4_rcv", "ip_rcv") for n in names):
            return "kernel: TCP receive (softirq)"
        rest = [n for n in names if not n.startswith(("pvm_", "__raw", "_raw"))]
        return "kernel: other (%s)" % (rest[0] if rest else "?")
    return "user: %s [%s]" % (fr[0][0], fr[0][1].rsplit("/", 1)[-1])


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with open(sys.argv[1], errors="replace") as f:
        samples = f.read().split("\n\n")
    by_comm, by_way, by_both, user = (collections.Counter() for _ in range(4))
    n = 0
    for s in samples:
        lines = [l.strip() for l in s.strip().split("\n") if l.strip()]
        if len(lines) < 2:
            continue
        fr = frames(lines[1:])
        if not fr:
            continue
        comm = lines[0].split()[0]
        way = classify(fr)
        n += 1
        by_comm[comm] += 1
        by_way[way] += 1
        by_both[(comm, way)] += 1
        if way.startswith("user: "):
            user[way[6:]] += 1
    if n == 0:
        sys.exit("perfsum.py: no samples")
    pct = lambda v: "%5.1f%%" % (100.0 * v / n)
    print("%d samples" % n)
    print("by thread:")
    for k, v in by_comm.most_common(12):
        print("  %s  %s" % (pct(v), k))
    print("by way into the kernel:")
    for k, v in by_way.most_common(15):
        print("  %s  %s" % (pct(v), k))
    print("by thread and way:")
    for (c, w), v in by_both.most_common(20):
        print("  %s  %-14s %s" % (pct(v), c, w))
    print("user space (self), %s in all:" % pct(sum(user.values())).strip())
    for k, v in user.most_common(12):
        print("  %s  %s" % (pct(v), k))


if __name__ == "__main__":
    main()
