"""Prints, as JSON, the CPU time (user + system, in seconds, all threads) each tunnel daemon
has used so far, read from /proc/PID/stat, for it and for every process descended from it:
VTun's server, for one, forks a process per session, which carries the traffic.

  proc_cpu.py SIDE=PID...     e.g. a=1234 b=1240  ->  {"a": {"1234": 1.52}, "b": {...}}

report.py subtracts a reading taken before the TCP runs from one taken after, process by
process (one that started in between counts from zero).
"""
import json
import os
import sys

TICK = os.sysconf("SC_CLK_TCK")


def stat(pid):
    """(parent PID, CPU seconds) of a process, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    # The name, in parentheses, may hold spaces: the fields after it start with the state (3).
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK  # ppid (4), utime (14) + stime (15)


def processes():
    found = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            info = stat(name)
            if info:
                found[int(name)] = info
    return found


def tree(root, table):
    """The CPU seconds of root and of each of its descendants, by PID."""
    children = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    seconds, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid in table:
            seconds[str(pid)] = table[pid][1]
            todo.extend(children.get(pid, []))
    return seconds


table = processes()
print(json.dumps({side: tree(int(pid), table) for side, pid in (arg.split("=") for arg in sys.argv[1:])}))
