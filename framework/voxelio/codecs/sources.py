"""Sources: random access to the decompressed bytes of one file, whatever its codec.

A *source* answers ``readinto_at(offset, buffer)`` and guards its own state
with a lock so several threads may read at once. Three kinds exist:

- :class:`PlainSource`: uncompressed bytes, positional reads.
- :class:`~voxelio.codecs.seek_index.StreamSource`: any single compressed
  stream, read through a seek index of decompressor checkpoints.
- :class:`BlockedGzipSource`: gzip files made of independent members that
  declare their sizes (see :mod:`voxelio.codecs.gzip_layout`); reads inflate
  only the members they overlap, several members in parallel on the shared pool.
- :class:`InflatedSource`: a small gzip file (one member, as other tools write
  it) inflated whole when opened; reads are copies.

:func:`open_source` picks the kind for a file.
"""

from __future__ import annotations

import _thread
import bisect
from typing import TYPE_CHECKING, Any

from ..errors import ImageFileError
from . import backends
from . import gzip_layout as layout
from .access import HEAD_KEEP, Access

if TYPE_CHECKING:
    from .seek_index import StreamSource

PARALLEL_SPAN = 8 << 20  # compressed bytes held at once by a parallel read (peak memory)


class PlainSource:
    """Uncompressed bytes."""

    codec = None

    def __init__(self, access: Access) -> None:
        self._access = access
        self.size = access.size()

    def readinto_at(self, offset: int, out: memoryview) -> int:
        data = self._access.pread(offset, len(out))
        out[: len(data)] = data
        return len(data)

    def total_size(self) -> int:
        if self.size is None:
            raise ImageFileError(f"the size of {self._access.name} is unknown (not seekable)")
        return self.size



class InflatedSource:
    """The decompressed bytes of a small file, inflated whole when it was opened.

    A load of a small compressed file reads its start to recognise the
    format, then the header, then the data: inflating it in one call at open
    (:func:`inflate_small_stream`) makes each of those reads a copy, with
    none of the bookkeeping a stream read at random needs.
    """

    codec = "gzip"

    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)
        self.size = len(data)
        #: decompressed bytes inflated (all of them, once), as other sources count them
        self.inflated = len(data)

    def readinto_at(self, offset: int, out: memoryview) -> int:
        n = max(0, min(len(out), self.size - offset))
        out[:n] = self._data[offset : offset + n]
        return n

    def total_size(self) -> int:
        return self.size


def inflate_small_stream(data: bytes) -> bytes | None:
    """The content of ``data``, a whole gzip file, if it is one clean member that
    decompresses to at most :data:`~voxelio.codecs.seek_index.HEAD_KEEP` bytes.

    None for anything else (several members, trailing bytes, corrupt or
    truncated data, a larger stream): those are read by a
    :class:`~voxelio.codecs.seek_index.StreamSource`, which explains what is
    wrong with them.
    """
    if len(data) < 18 or data[:2] != layout.GZIP_MAGIC:
        return None
    size = int.from_bytes(data[-4:], "little")  # ISIZE: the member's length (mod 2**32)
    if size > HEAD_KEEP:
        return None
    d = backends.fast_gzip_decompressobj() or backends.checkpoint_gzip_module().decompressobj(31)
    try:
        out = d.decompress(data, size + 1)
    except Exception:  # corrupt: the stream reader reports it in its own words
        return None
    if not d.eof or d.unused_data or len(out) != size:
        return None
    return out


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
        # _thread's lock is threading.Lock without importing threading, which a
        # load of a small gzip file otherwise never needs (a cost every process pays)
        self._lock = _thread.allocate_lock()
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

    def _place(self, k: int, data: Any, offset: int, out: memoryview) -> None:
        """Inflate member ``k`` (compressed ``data``) into its part of ``out``, read at ``offset``.

        A member wholly inside the read is inflated straight into ``out``;
        one the read cuts is inflated aside and its part copied.
        """
        u0, u1 = self._uoffs[k], self._uoffs[k + 1]
        end = offset + len(out)
        if offset <= u0 and u1 <= end:
            self._inflate_into(k, data, out[u0 - offset : u1 - offset])
            return
        inflated = self._inflate(k, data)
        src, dst_end = max(offset, u0), min(end, u1)
        out[src - offset : dst_end - offset] = memoryview(inflated)[src - u0 : dst_end - u0]

    def _inflate_into(self, k: int, data: Any, out: memoryview) -> int:
        """Inflate member ``k`` into ``out``, which its declared size fills; bytes written."""
        try:
            backends.inflate_member_into(data, out)
        except (ValueError, *backends.gzip_inflate_errors()) as err:
            raise ImageFileError(
                f"{self._access.name} is corrupt: invalid gzip member at byte {self._coffs[k]} "
                f"({err})"
            ) from None
        return len(out)

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
        executor = backends.thread_pool()
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

        def one(k: int) -> None:
            data = self._access.pread(self._coffs[k], self._csizes[k])
            if len(data) < self._csizes[k]:
                raise ImageFileError(f"{self._access.name} is truncated inside a gzip member")
            self._place(k, data, offset, out)

        backends.run_all(executor, one, ((k,) for k in range(first, last + 1)))

    def _read_batch(self, first: int, last: int, offset: int, out: memoryview) -> None:
        base = self._coffs[first]
        span = self._coffs[last] + self._csizes[last] - base
        raw = memoryview(self._access.pread(base, span))
        if len(raw) < span:
            raise ImageFileError(f"{self._access.name} is truncated inside a gzip member")

        def one(k: int) -> None:
            lo = self._coffs[k] - base
            self._place(k, raw[lo : lo + self._csizes[k]], offset, out)

        executor = backends.thread_pool() if last > first else None
        backends.run_all(executor, one, ((k,) for k in range(first, last + 1)))


def open_source(
    fobj: Any, name: str, codec: str | None, *, own: bool, whole: bytes | None = None
) -> Any:
    """The source for ``fobj`` (positioned at its data) holding ``codec``-compressed data.

    ``whole``: all of a small file's bytes, already read from its start.
    """
    access = Access(fobj, name, own=own, whole=whole)
    if codec is None:
        return PlainSource(access)
    if codec == "gzip" and access.seekable:
        size = access.size()
        if size is not None:
            coffs, uoffs, csizes = layout.scan_members(access.pread, size)
            if coffs:
                tail_c = coffs[-1] + csizes[-1]
                tail = None
                if access.pread(tail_c, 2) == layout.GZIP_MAGIC:
                    tail = _stream_source(access, codec, cin=tail_c, u=uoffs[-1],
                                          require_data=False)
                return BlockedGzipSource(access, coffs, uoffs, csizes, tail)
            if whole is not None:
                inflated = inflate_small_stream(whole)
                if inflated is not None:
                    return InflatedSource(inflated)
    return _stream_source(access, codec)


def _stream_source(access: Access, codec: str, **kwargs: Any) -> StreamSource:
    # imported here: a small file inflated whole (and every blocked file that
    # ends with its members) never needs the seek index
    from .decompressors import codec_adapter
    from .seek_index import StreamSource

    return StreamSource(access, codec_adapter(codec), **kwargs)

