"""Between cases: what earlier cases wrote is on disk before the next one is timed.

The data step rewrites the voxelio-written files (hundreds of MB) and every
save case writes its outputs; the kernel writes those back to disk some
time later (after ``vm.dirty_expire_centisecs``, 30 s here), which then
falls into whatever case runs at that moment. Saves of the 256^3 int16
T1 from a C-order array, timed under real-time priority while 1.5 GB were
written back (an ``fsync`` on another thread, nothing else running), took
63-183 ms (median about 95) with voxelio instead of 61-71, and 556-651 ms
with NiBabel instead of 501-545: both slower, and a ratio measured then
depends on which repeats the writeback happened to meet. Flushing before
each case gives both libraries the same, quiet start; within a case, each
repeat still meets the writeback of the repeats before it, as a program
saving in a loop does.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

MEMINFO = "/proc/meminfo"


def pending_writeback_kib(meminfo: str = MEMINFO) -> int | None:
    """Dirty + Writeback memory in KiB (None where the system does not say)."""
    try:
        with open(meminfo) as fh:
            fields = dict(line.split(":", 1) for line in fh if ":" in line)
    except OSError:
        return None
    try:
        return sum(int(fields[key].split()[0]) for key in ("Dirty", "Writeback"))
    except (KeyError, ValueError, IndexError):
        return None


def settle(limit_kib: int = 16 * 1024, max_wait: float = 5.0, poll: float = 0.05,
           read: Callable[[], int | None] = pending_writeback_kib,
           sync: Callable[[], None] = os.sync,
           sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """Flush written files to disk and wait (at most ``max_wait`` s) until little is pending.

    Returns what was pending before and after, and the seconds spent (kept
    in the results beside each case).
    """
    start = time.monotonic()
    before = read()
    sync()
    after = read()
    while after is not None and after > limit_kib and time.monotonic() - start < max_wait:
        sleep(poll)  # other programs' writes, or a device still busy
        after = read()
    return {"pending_kib_before": before, "pending_kib_after": after,
            "seconds": round(time.monotonic() - start, 3)}
