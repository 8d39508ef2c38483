#!/usr/bin/env python3
"""Process facts for bench/run.sh, read from /proc.

  procstat.py tree ROOT      ROOT and every descendant, one pid a line
  procstat.py cpu PID...     CPU seconds of those processes: utime + stime
                             of each, plus cutime + cstime (children that
                             exited and were waited for)
  procstat.py pss PID...     proportional set size, summed, in KiB
                             (/proc/PID/smaps_rollup)

A process that exits while it is being read is skipped. Used when no
cgroup is available for CPU accounting, and always for memory."""

import os
import sys

CLK_TCK = os.sysconf("SC_CLK_TCK")


def stat_fields(pid):
    """Fields of /proc/PID/stat after the command name, or None."""
    try:
        with open("/proc/%s/stat" % pid) as f:
            data = f.read()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: split after the last ')'.
    return data[data.rfind(")") + 2:].split()


def tree(root):
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        fields = stat_fields(name)
        if fields is None:
            continue
        children.setdefault(fields[1], []).append(name)
    out, pending = [], [str(root)]
    while pending and len(out) < 1000000:
        pid = pending.pop()
        out.append(pid)
        pending.extend(children.get(pid, []))
    return out


def cpu(pids):
    total = 0
    for pid in pids:
        fields = stat_fields(pid)
        if fields is None:
            continue
        # utime stime cutime cstime are fields 14-17 of stat; 11-14 here.
        total += sum(int(x) for x in fields[11:15])
    return total / CLK_TCK


def pss(pids):
    total = 0
    for pid in pids:
        try:
            with open("/proc/%s/smaps_rollup" % pid) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except (OSError, ValueError):
            continue
    return total


def main(argv):
    if len(argv) < 2 or argv[1] not in ("tree", "cpu", "pss"):
        sys.exit(__doc__)
    args = [a for a in argv[2:] if a.isdigit()]
    if argv[1] == "tree":
        if len(args) != 1:
            sys.exit("usage: procstat.py tree ROOT")
        print("\n".join(tree(args[0])))
    elif argv[1] == "cpu":
        print("%.3f" % cpu(args))
    else:
        print(pss(args))


if __name__ == "__main__":
    main(sys.argv)
