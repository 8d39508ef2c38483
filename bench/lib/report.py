#!/usr/bin/env python3
"""Turns bench/run.sh's raw figures into the comparison table.

  report.py RAW.tsv

RAW lines are "server<TAB>clients<TAB>metric<TAB>value" (clients is "idle"
for the idle-session run and "sub:N" for authenticated submission at N
clients). Each cell shows the median over the repeats
and, when there was more than one, [min-max]. The ratio column is
gatepost's median over Postfix's. The table ends with the targets of the
comparison and whether the medians meet them."""

import statistics
import sys
from collections import defaultdict

SERVERS = ("postfix", "gatepost")

# metric, label, shown with how many decimals
LOAD_ROWS = (
    ("rate_ss", "accepted msg/s (smtp-source)", 0),
    ("rate_sl", "accepted msg/s (smtpload)", 0),
    ("deliver_s", "s until all in the Maildir", 2),
    ("cpu_k", "server CPU s / 1000 msgs", 2),
    ("p50", "latency p50, connect to 250 (ms)", 1),
    ("p99", "latency p99, connect to 250 (ms)", 1),
    ("ovf_ss", "listen overflows (smtp-source run)", 0),
    ("ovf_sl", "listen overflows (smtpload run)", 0),
    ("fail_sl", "failed transactions (smtpload)", 0),
    ("disk_p50", "disk alone, one writer: commit p50 (ms)", 2),
    ("disk_p99", "disk alone, one writer: commit p99 (ms)", 2),
)
# Measured in each server's slot, not of the server: no ratio.
NO_RATIO = ("disk_p50", "disk_p99")
# The authenticated-submission runs (--auth), clients "sub:N".
SUB_ROWS = (
    ("rate_sl", "accepted msg/s", 0),
    ("deliver_s", "s until all in the Maildir", 2),
    ("cpu_k", "server CPU s / 1000 msgs", 2),
    ("p50", "latency p50, connect to 250 (ms)", 1),
    ("p99", "latency p99, connect to 250 (ms)", 1),
    ("fail_sl", "failed transactions", 0),
)
IDLE_ROWS = (
    ("offered", "sessions offered", 0),
    ("held", "sessions held (EHLO done, idle)", 0),
    ("pss_mb", "PSS of all processes, sessions held (MB)", 1),
    ("pss_base_mb", "PSS of all processes, no sessions (MB)", 1),
    ("kb_session", "PSS per held session (KiB)", 1),
    ("procs", "processes", 0),
)


def load(path):
    data = defaultdict(list)
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 4 or parts[3] == "":
                continue
            try:
                data[(parts[0], parts[1], parts[2])].append(float(parts[3]))
            except ValueError:
                continue
    return data


def median(data, srv, clients, metric):
    vals = data.get((srv, clients, metric))
    return statistics.median(vals) if vals else None


def cell(vals, decimals):
    if not vals:
        return "-"
    fmt = "%%.%df" % decimals
    text = fmt % statistics.median(vals)
    if len(vals) > 1:
        text += " [%s-%s]" % (fmt % min(vals), fmt % max(vals))
    return text


def ratio(data, clients, metric):
    pf = median(data, "postfix", clients, metric)
    gp = median(data, "gatepost", clients, metric)
    if pf is None or gp is None:
        return "-"
    if pf == 0:
        return "-" if gp == 0 else "inf"
    return "%.2fx" % (gp / pf)


def rows(data, clients, spec):
    out = []
    for metric, label, decimals in spec:
        if not any((srv, clients, metric) in data for srv in SERVERS):
            continue
        out.append("  %-42s %-22s %-22s %s" % (
            label,
            cell(data.get(("postfix", clients, metric)), decimals),
            cell(data.get(("gatepost", clients, metric)), decimals),
            "-" if metric in NO_RATIO else ratio(data, clients, metric)))
    return out


def client_counts(data):
    counts = {int(c) for (_, c, _) in data if c.isdigit()}
    return [str(c) for c in sorted(counts)]


def sub_counts(data):
    counts = {int(c[4:]) for (_, c, _) in data if c.startswith("sub:") and c[4:].isdigit()}
    return ["sub:%d" % c for c in sorted(counts)]


def verdict(ok):
    return "met" if ok else "NOT met"


def targets(data):
    out = ["targets (medians):"]
    for clients in client_counts(data):
        if int(clients) < 10:
            continue
        pf = median(data, "postfix", clients, "rate_ss")
        gp = median(data, "gatepost", clients, "rate_ss")
        if pf and gp:
            out.append("  accept rate >= 3x Postfix at %3s clients: %.2fx  %s" %
                       (clients, gp / pf, verdict(gp >= 3 * pf)))
    for metric, what in (("cpu_k", "CPU per message"), ("p99", "latency p99")):
        for clients in client_counts(data):
            pf = median(data, "postfix", clients, metric)
            gp = median(data, "gatepost", clients, metric)
            if pf and gp is not None:
                out.append("  %s <= 1/4 of Postfix's at %3s clients: %.2fx  %s" %
                           (what, clients, gp / pf, verdict(gp * 4 <= pf)))
    held = median(data, "gatepost", "idle", "held")
    pss = median(data, "gatepost", "idle", "pss_mb")
    if held is not None and pss is not None:
        out.append("  10,000 idle sessions within 200 MB: %d held in %.1f MB  %s" %
                   (held, pss, verdict(held >= 10000 and pss <= 200)))
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: report.py RAW.tsv")
    data = load(sys.argv[1])
    lines = ["  %-42s %-22s %-22s %s" % ("", "Postfix", "gatepost", "gatepost/Postfix")]
    for clients in client_counts(data):
        lines.append("%s concurrent client%s" % (clients, "" if clients == "1" else "s"))
        lines += rows(data, clients, LOAD_ROWS)
    for key in sub_counts(data):
        n = key[4:]
        lines.append("submission (STARTTLS, AUTH PLAIN), %s concurrent client%s" %
                     (n, "" if n == "1" else "s"))
        lines += rows(data, key, SUB_ROWS)
    if any(c == "idle" for (_, c, _) in data):
        lines.append("idle sessions")
        lines += rows(data, "idle", IDLE_ROWS)
    lines.append("")
    lines += targets(data)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
