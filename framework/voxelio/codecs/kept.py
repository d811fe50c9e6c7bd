"""Decompressed chunks kept in memory, so reads of them do not inflate the stream again."""

from __future__ import annotations

import bisect
import threading


class KeptChunks:
    """A run of consecutive decompressed chunks, at most about ``limit`` bytes.

    Chunks are added front to back by one pass; adding one that does not
    continue the run starts a new run. Past ``limit`` the oldest chunks go
    (the run always keeps the newest chunk). Thread-safe: a pass may add
    while another thread drops what it no longer needs.

    Parameters
    ----------
    limit
        Bytes kept at most (plus the chunk being added).
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._starts: list[int] = []  # decompressed offset of each chunk
        self._chunks: list[memoryview] = []
        self.nbytes = 0

    @property
    def start(self) -> int | None:
        """Decompressed offset of the first byte kept, None when empty."""
        with self._lock:
            return self._starts[0] if self._starts else None

    def add(self, offset: int, chunk: memoryview) -> None:
        """Keep ``chunk``, the decompressed bytes from ``offset``."""
        if not len(chunk):
            return
        with self._lock:
            if self._starts and offset != self._starts[-1] + len(self._chunks[-1]):
                self._clear()
            self._starts.append(offset)
            self._chunks.append(chunk)
            self.nbytes += len(chunk)
            while len(self._chunks) > 1 and self.nbytes - len(self._chunks[0]) >= self.limit:
                self._pop_first()

    def drop_below(self, offset: int) -> None:
        """Let go of the chunks that end at or before ``offset``."""
        with self._lock:
            while self._starts and self._starts[0] + len(self._chunks[0]) <= offset:
                self._pop_first()

    def clear(self) -> None:
        """Let go of every chunk."""
        with self._lock:
            self._clear()

    def readinto(self, offset: int, out: memoryview) -> int:
        """Copy what is kept from ``offset`` on into ``out``; the number of bytes copied.

        Zero when ``offset`` is not kept; fewer than ``len(out)`` when the run
        ends first.
        """
        with self._lock:
            k = bisect.bisect_right(self._starts, offset) - 1
            got = 0
            while k >= 0 and got < len(out) and k < len(self._chunks):
                chunk = self._chunks[k]
                lo = offset + got - self._starts[k]
                n = min(len(out) - got, len(chunk) - lo)
                if n <= 0:
                    break
                out[got : got + n] = chunk[lo : lo + n]
                got += n
                k += 1
            return got

    def _pop_first(self) -> None:
        self.nbytes -= len(self._chunks[0])
        del self._starts[0], self._chunks[0]

    def _clear(self) -> None:
        self._starts, self._chunks, self.nbytes = [], [], 0
