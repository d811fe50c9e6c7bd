"""Blocked-gzip random access and the file object that wraps every source."""

from __future__ import annotations

import bisect
import io
import threading
from collections.abc import Callable
from typing import Any

from . import _codec_backends as backends
from . import _gzipblocks as blocks
from ._codec_sources import (
    PARALLEL_SPAN,
    Access,
    PlainSource,
    StreamSource,
    codec_adapter,
)
from .errors import ImageFileError


class BlockedGzipSource:
    """A gzip file whose leading members declare their sizes; ``tail`` streams the rest.

    Members are inflated independently: a read inflates only the members it
    overlaps, on the shared thread pool when there are several. The last
    member inflated alone is cached, so small sequential reads (headers) do
    not inflate it again.
    """

    codec = "gzip"

    def __init__(
        self, access: Access, coffs: list[int], uoffs: list[int], csizes: list[int],
        tail: StreamSource | None,
    ) -> None:
        self._access = access
        self._coffs, self._uoffs, self._csizes = coffs, uoffs, csizes
        self._end = uoffs[-1]
        self._tail = tail
        self._lock = threading.Lock()
        self._cache: tuple[int, bytes] | None = None

    @property
    def size(self) -> int | None:
        return self._end if self._tail is None else self._tail.size

    @property
    def members(self) -> int:
        """How many members the index holds."""
        return len(self._coffs)

    def total_size(self) -> int:
        return self._end if self._tail is None else self._tail.total_size()

    def readinto_at(self, offset: int, out: memoryview) -> int:
        got = 0
        if offset < self._end:
            got = min(len(out), self._end - offset)
            self._read_members(offset, out[:got])
        if got < len(out) and self._tail is not None:
            got += self._tail.readinto_at(offset + got, out[got:])
        return got

    def boundaries(self, start: int, end: int) -> list[int]:
        lo = bisect.bisect_right(self._uoffs, start)
        hi = bisect.bisect_left(self._uoffs, min(end, self._end))
        return self._uoffs[lo:hi]

    def stop(self) -> None:
        if self._tail is not None:
            self._tail.stop()

    def release_cache(self) -> None:
        """Drop what the tail keeps from a pass to the end (one member stays cached)."""
        if self._tail is not None:
            self._tail.release_cache()

    # members -------------------------------------------------------------------------
    def _inflate(self, k: int, data: Any) -> bytes:
        usize = self._uoffs[k + 1] - self._uoffs[k]
        try:
            out = backends.inflate_member(data, usize)
        except backends.gzip_inflate_errors() as err:
            raise ImageFileError(
                f"{self._access.name} is corrupt: invalid gzip member at byte {self._coffs[k]} "
                f"({err})"
            ) from None
        if len(out) != usize:
            raise ImageFileError(
                f"{self._access.name} is corrupt: gzip member at byte {self._coffs[k]} holds "
                f"{len(out)} bytes, its header says {usize}"
            )
        return out

    def _member(self, k: int) -> bytes:
        with self._lock:
            if self._cache is not None and self._cache[0] == k:
                return self._cache[1]
        data = self._access.pread(self._coffs[k], self._csizes[k])
        if len(data) < self._csizes[k]:
            raise ImageFileError(f"{self._access.name} is truncated inside a gzip member")
        out = self._inflate(k, data)
        with self._lock:
            self._cache = (k, out)
        return out

    def _read_members(self, offset: int, out: memoryview) -> None:
        end = offset + len(out)
        first = bisect.bisect_right(self._uoffs, offset) - 1
        last = bisect.bisect_left(self._uoffs, end) - 1
        if first == last:
            data = self._member(first)
            start = offset - self._uoffs[first]
            out[:] = memoryview(data)[start : start + len(out)]
            return
        executor = backends.pool()
        if executor is not None:
            self._read_parallel(executor, first, last, offset, out)
            return
        k = first
        while k <= last:
            # A batch spans at most PARALLEL_SPAN compressed bytes, read in one go.
            stop = k
            while stop < last and self._coffs[stop + 1] + self._csizes[stop + 1] - self._coffs[
                k
            ] <= PARALLEL_SPAN:
                stop += 1
            self._read_batch(k, stop, offset, out)
            k = stop + 1

    def _read_parallel(
        self, executor: Any, first: int, last: int, offset: int, out: memoryview
    ) -> None:
        """Each worker reads, inflates and places whole members (the file is read in parallel
        too; memory held is a member or two per worker)."""
        end = offset + len(out)

        def one(k: int) -> None:
            data = self._access.pread(self._coffs[k], self._csizes[k])
            if len(data) < self._csizes[k]:
                raise ImageFileError(f"{self._access.name} is truncated inside a gzip member")
            inflated = self._inflate(k, data)
            u0 = self._uoffs[k]
            src = max(offset, u0)
            dst_end = min(end, u0 + len(inflated))
            out[src - offset : dst_end - offset] = memoryview(inflated)[src - u0 : dst_end - u0]

        futures = [executor.submit(one, k) for k in range(first, last + 1)]
        try:
            for future in futures:
                future.result()
        finally:
            for future in futures:
                future.cancel()

    def _read_batch(self, first: int, last: int, offset: int, out: memoryview) -> None:
        base = self._coffs[first]
        span = self._coffs[last] + self._csizes[last] - base
        raw = memoryview(self._access.pread(base, span))
        if len(raw) < span:
            raise ImageFileError(f"{self._access.name} is truncated inside a gzip member")
        end = offset + len(out)

        def one(k: int) -> None:
            lo = self._coffs[k] - base
            data = self._inflate(k, raw[lo : lo + self._csizes[k]])
            u0 = self._uoffs[k]
            src = max(offset, u0)
            dst_end = min(end, u0 + len(data))
            out[src - offset : dst_end - offset] = memoryview(data)[src - u0 : dst_end - u0]

        executor = backends.pool() if last > first else None
        if executor is None:
            for k in range(first, last + 1):
                one(k)
        else:
            for future in [executor.submit(one, k) for k in range(first, last + 1)]:
                future.result()


def open_source(fobj: Any, name: str, codec: str | None, *, own: bool) -> Any:
    """The source for ``fobj`` (positioned at its data) holding ``codec``-compressed data."""
    access = Access(fobj, name, own=own)
    if codec is None:
        return PlainSource(access)
    adapter = codec_adapter(codec)
    if codec == "gzip" and access.seekable:
        size = access.size()
        if size is not None:
            coffs, uoffs, csizes = blocks.scan_members(access.pread, size)
            if coffs:
                tail_c = coffs[-1] + csizes[-1]
                tail = None
                if access.pread(tail_c, 2) == blocks.GZIP_MAGIC:
                    tail = StreamSource(access, adapter, cin=tail_c, u=uoffs[-1],
                                        require_data=False)
                return BlockedGzipSource(access, coffs, uoffs, csizes, tail)
    return StreamSource(access, adapter)


class IndexedReader(io.RawIOBase):
    """A read-only, seekable binary file over decompressed bytes, with positional reads.

    Besides the file protocol (``read``, ``readinto``, ``seek``, ``tell``), it
    offers :meth:`read_range` and :meth:`readinto_range`, which ignore and keep
    the file position and may be called from several threads at once. Whatever
    index it builds (member offsets, decompressor checkpoints) lives as long as
    it does, so keep one open to make repeated reads cheap.
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
