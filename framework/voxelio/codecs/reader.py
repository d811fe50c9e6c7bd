"""The read-only file object over any source's decompressed bytes."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from .sources import BlockedGzipSource


class IndexedReader(io.RawIOBase):
    """A read-only, seekable binary file over decompressed bytes, with positional reads.

    Besides the file protocol (``read``, ``readinto``, ``seek``, ``tell``), it
    offers :meth:`read_range` and :meth:`readinto_range`, which ignore and keep
    the file position and may be called from several threads at once. Whatever
    index it builds (member offsets, decompressor checkpoints) lives as long as
    it does, so keep one open to make repeated reads cheap.

    Made by :func:`~voxelio.codecs.open_indexed`, not directly: how it is
    built is the codecs package's own business.
    """

    def __init__(self, source: Any, name: str, closers: list[Callable[[], None]]) -> None:
        super().__init__()
        self._source = source
        self.name = name
        self._closers = closers
        self._pos = 0

    @property
    def codec(self) -> str | None:
        """'gzip', 'bz2', 'zstd' or None (uncompressed)."""
        return self._source.codec

    @property
    def size(self) -> int | None:
        """Decompressed size in bytes, or None until a read reaches the end."""
        return self._source.size

    @property
    def blocked(self) -> bool:
        """True when the file is indexed blocked gzip (random access without streaming)."""
        return isinstance(self._source, BlockedGzipSource)

    def boundaries(self, offset: int, nbytes: int) -> list[int]:
        """Offsets inside ``[offset, offset + nbytes)`` where independently readable parts start.

        For blocked gzip, the members: reads split there can run in parallel
        without inflating any member twice. Empty for other sources.
        """
        if not isinstance(self._source, BlockedGzipSource):
            return []
        return self._source.boundaries(offset, offset + nbytes)

    def keep_below(self, offset: int) -> None:
        """Say that reads stop before decompressed byte ``offset``.

        A later seek to the end (which inflates the whole stream to learn its
        size) then keeps none of the bytes from ``offset`` on in memory: a
        stream far longer than its header says, such as a decompression bomb
        after the data, costs no more than what the header describes. Reads
        beyond ``offset`` still work (they inflate again). No effect on
        uncompressed files and blocked gzip, which keep nothing of the kind.
        """
        keep = getattr(self._source, "keep_below", None)
        if keep is not None:
            keep(offset)

    def readinto_range(self, offset: int, buffer: Any) -> int:
        """Fill ``buffer`` with the decompressed bytes from ``offset``.

        Returns the number of bytes filled, fewer than ``len(buffer)`` only at
        the end of the data. Thread-safe; the file position is unchanged.
        """
        self._check_open()
        if offset < 0:
            raise ValueError(f"offset must be >= 0, not {offset}")
        view = memoryview(buffer).cast("B")
        return self._source.readinto_at(offset, view) if len(view) else 0

    def expect_read(self, offset: int, nbytes: int) -> None:
        """Say that ``[offset, offset + nbytes)`` will now be read front to back, in pieces.

        A hint, never needed for correct results: each piece is then
        decompressed the way one read of all that is left would be (a single
        gzip stream read in small pieces otherwise misses the fastest
        inflater, which only a large read restarts). The hint lasts until a
        read reaches the end of that range or another hint is given;
        ``nbytes = 0`` withdraws it. Sources that need no hint ignore it.
        """
        self._check_open()
        expect = getattr(self._source, "expect", None)
        if expect is not None:
            expect(offset, nbytes)

    def take_range(self, offset: int, nbytes: int, align: int = 1) -> Any | None:
        """The decompressed bytes ``[offset, offset + nbytes)``, handed over without a copy.

        When a pass to the end of the stream (a ``seek`` relative to the end)
        inflated it whole into one buffer (see :mod:`voxelio.codecs.held`),
        most of that buffer can become the caller's array instead of being
        copied out: the result is a writable ``numpy.uint8`` array the reader
        keeps no reference to (later reads inflate again).

        Returns None (read with :meth:`readinto_range` instead) when the
        bytes are not held in one piece, are less than half of it, or do not
        start at an address that is a multiple of ``align`` (the item size
        of the caller's dtype).
        """
        self._check_open()
        take = getattr(self._source, "take_range", None)
        return None if take is None or nbytes <= 0 else take(offset, nbytes, align)

    def release_cache(self) -> None:
        """Free decompressed bytes kept to answer later reads (the index stays)."""
        release = getattr(self._source, "release_cache", None)
        if release is not None:
            release()

    def read_range(self, offset: int, nbytes: int) -> bytes:
        """Up to ``nbytes`` decompressed bytes from ``offset`` (thread-safe)."""
        buf = bytearray(nbytes)
        got = self.readinto_range(offset, buf)
        del buf[got:]
        return bytes(buf)

    # file protocol -------------------------------------------------------------------
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        got = self.readinto_range(self._pos, buffer)
        self._pos += got
        return got

    def readall(self) -> bytes:
        self._check_open()
        chunks = []
        while True:
            chunk = self.read(max(1 << 20, (self.size or 0) - self._pos))
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._check_open()
        if whence == io.SEEK_SET:
            target = offset
        elif whence == io.SEEK_CUR:
            target = self._pos + offset
        elif whence == io.SEEK_END:
            target = self._source.total_size() + offset
        else:
            raise ValueError(f"invalid whence {whence!r}")
        if target < 0:
            raise ValueError(f"negative seek position {target}")
        self._pos = target
        return target

    def tell(self) -> int:
        self._check_open()
        return self._pos

    def close(self) -> None:
        if not self.closed:
            try:
                stop = getattr(self._source, "stop", None)
                if stop is not None:
                    stop()
                for closer in self._closers:
                    closer()
            finally:
                super().close()

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError(f"I/O operation on closed reader of {self.name}")

    def __repr__(self) -> str:
        return f"<IndexedReader {self.name} codec={self.codec} size={self.size}>"
