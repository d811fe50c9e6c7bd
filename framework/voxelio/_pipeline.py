"""Reading a run of stored values while converting it: the two overlapped.

A stream that one decompressor must inflate from front to back (a single
gzip stream, as most tools write, bzip2, zstd) cannot be split between
threads, but converting its values (to float64 for ``get_fdata()``, scaling)
can run beside it: the calling thread reads a piece while a codec thread
converts the one before straight into the output, so the whole read costs
about its decompression alone.

Pieces are small (:data:`PIECE_BYTES`). Only the last piece's conversion
cannot overlap anything, and a few small buffers used round and round stay
in the processor's cache and in memory the process already has: a fresh
buffer of several MiB per piece costs page faults, and on a virtual machine
that hands freed memory back to its host (free page reporting) far more.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, BinaryIO

import numpy as np

from ._rangeread import readinto_exact

#: stored bytes read, then converted, per piece: 2 MiB measured best for the 256^3 int16
#: T1 (1 MiB: 5 ms more CPU in thread hand-offs; 4 MiB and up: a longer last piece)
PIECE_BYTES = 2 << 20
#: pieces in flight: one being read, the others waiting for or in conversion
BUFFERS = 3


def read_converting(
    fobj: BinaryIO,
    start: int,
    flat_out: np.ndarray,
    stored: np.dtype,
    convert: Callable[[np.ndarray, np.ndarray], Any],
    executor: Any,
    where: str,
    serial_bytes: int,
) -> None:
    """Fill ``flat_out`` with ``convert(values, out_part)`` of the stored values from ``start``.

    ``fobj`` is read front to back from byte ``start`` in pieces of
    :data:`PIECE_BYTES`; with an ``executor`` each piece is converted on it
    while the next is read. With none, nothing overlaps: pieces of
    ``serial_bytes`` are read and converted here (fewer, larger reads, which
    a remote file serves in fewer requests). A reader that takes hints
    (``expect_read``) learns the whole range first, so it decompresses as
    for one large read. ``where`` names the file in errors.
    """
    total = flat_out.size
    piece_bytes = PIECE_BYTES if executor is not None else serial_bytes
    per_piece = max(1, piece_bytes // stored.itemsize)
    expect = getattr(fobj, "expect_read", None)
    if expect is not None:
        expect(start, total * stored.itemsize)
    slots = 1 if executor is None else BUFFERS
    buffers = np.empty((slots, min(per_piece, total)), dtype=stored)
    pending: list[Any] = [None] * slots
    fobj.seek(start)
    done = 0
    piece = 0
    try:
        while done < total:
            slot = piece % slots
            if pending[slot] is not None:
                # the buffer's last piece must be converted before it is refilled
                future, pending[slot] = pending[slot], None
                future.result()
            n = min(per_piece, total - done)
            values = buffers[slot, :n]
            readinto_exact(fobj, None, values.view(np.uint8), where)
            part = flat_out[done : done + n]
            if executor is None:
                convert(values, part)
            else:
                pending[slot] = executor.submit(convert, values, part)
            done += n
            piece += 1
    finally:
        if expect is not None and done < total:
            expect(0, 0)  # a failed read: later reads are on their own again
        for future in pending:
            if future is not None:
                future.result()
