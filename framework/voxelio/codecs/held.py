"""A whole decompressed stream held in one buffer, which a read may take over.

Some formats keep data before a footer: an MGH load reads the footer and
FreeSurfer's tags after the voxel data, so it inflates the whole stream to
learn them. :class:`~voxelio.codecs.seek_index.StreamSource` inflates such a
pass to the end into one :class:`HeldStream` when the gzip trailer states a
plausible size: reads then copy from it, and the read of the image data
takes the buffer over (:meth:`HeldStream.take`), so the caller's array *is*
the buffer the load inflated into: inflated once, never copied.

The buffer is a numpy array: numpy asks the kernel for transparent huge pages
for large arrays, so filling it costs far fewer page faults than the many
chunks (or a ``bytearray``) it replaces.
"""

from __future__ import annotations

from typing import Any

#: a pass to the end holds a stream whole only up to this many decompressed bytes
#: (beyond, it keeps only the stream's end, as much as this); a read takes the buffer
#: over only for a range of at least this fraction of it (the array would pin the rest)
HOLD_MAX = 80 << 20
TAKE_MIN_FRACTION = 0.5


class HeldStream:
    """The decompressed bytes from offset ``start`` on, filled front to back.

    Parameters
    ----------
    start
        Decompressed offset of the first byte.
    capacity
        Bytes the buffer can hold (its memory is only touched as it fills).
    """

    def __init__(self, start: int, capacity: int) -> None:
        import numpy as np

        self.start = start
        self._buffer = np.empty(capacity, dtype=np.uint8)
        self.filled = 0

    @property
    def end(self) -> int:
        """Decompressed offset just after the last byte held."""
        return self.start + self.filled

    def free(self) -> memoryview:
        """The part of the buffer not filled yet, to inflate into (then :meth:`filled_by`)."""
        return memoryview(self._buffer)[self.filled :]

    def filled_by(self, nbytes: int) -> None:
        """Record that ``nbytes`` more bytes were written at the start of :meth:`free`."""
        self.filled += nbytes

    def append(self, chunk: memoryview) -> int:
        """Copy as much of ``chunk`` as fits; the number of bytes copied."""
        n = min(len(chunk), len(self._buffer) - self.filled)
        self._buffer[self.filled : self.filled + n] = chunk[:n]
        self.filled += n
        return n

    def readinto(self, offset: int, out: memoryview) -> int:
        """Copy what is held from ``offset`` on into ``out``; the number of bytes copied."""
        lo = offset - self.start
        n = min(len(out), self.filled - lo)
        if lo < 0 or n <= 0:
            return 0
        out[:n] = memoryview(self._buffer)[lo : lo + n]
        return n

    def take(self, offset: int, nbytes: int, align: int = 1) -> Any | None:
        """The bytes ``[offset, offset + nbytes)`` as a writable uint8 array over the buffer.

        None when they are not all held, when their address is not a
        multiple of ``align``, or when they are less than
        :data:`TAKE_MIN_FRACTION` of what is held. The caller owns them from
        then on: the holder must let the buffer go (and never read it again).
        """
        lo = offset - self.start
        if lo < 0 or lo + nbytes > self.filled or nbytes < TAKE_MIN_FRACTION * self.filled:
            return None
        part = self._buffer[lo : lo + nbytes]
        if part.ctypes.data % align:
            return None
        return part
