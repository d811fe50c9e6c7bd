"""Before each timed read: memory the kernel has just handed out, handed out again.

A full read returns a fresh array (128 MiB for ``get_fdata()`` of the 256^3
T1), and whatever a library allocates for its output is memory the kernel
zero-fills on first touch: part of every read, and the same work for both
libraries. On this machine (a Firecracker virtual machine with a balloon
device) the guest also reports freed memory to the host in blocks of 2 MiB
(``/sys/module/page_reporting/parameters/page_reporting_order`` = 9, the
transparent-huge-page size), and the host takes reported blocks back. A
block touched after that waits for the host to map memory in again: a
128 MiB ``np.ones`` took 23-28 ms when the memory had been freed a moment
before and 140-335 ms (system time 130-290 ms) after three idle seconds, and
the libraries' reads met it at random (one voxelio ``get_fdata()`` in a loop:
system time 8-182 ms, wall 95-420 ms). Which repeats met it decided the
read rows' spread (0.32-0.71 for one row of the last quiet run).

:func:`warmer` touches, then frees, as much memory as a read will take, just
before each timed call (outside the timing, before both libraries and the
floor alike): the read then gets memory the guest holds, as a program that
keeps allocating does, and its time is its own work plus the zero-fill.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: where the kernel says how large the freed blocks it reports to the host are
PAGE_REPORTING_ORDER = "/sys/module/page_reporting/parameters/page_reporting_order"


def warmer(nbytes: int) -> Callable[[], None]:
    """A callable that writes to ``nbytes`` of fresh memory and frees it."""
    count = max(1, nbytes // 8)

    def warm() -> None:
        block = np.ones(count)  # every page written, as a read's output will be
        del block

    return warm


def page_reporting() -> int | None:
    """Size in bytes of the blocks freed memory is reported to a host in, or None."""
    try:
        with open(PAGE_REPORTING_ORDER) as fh:
            order = int(fh.read().strip())
    except (OSError, ValueError):
        return None
    return 4096 << order
