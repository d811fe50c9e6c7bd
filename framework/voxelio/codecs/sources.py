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
#: compressed bytes first read to inflate the start of a large member (doubling after)
HEAD_INFLATE_CHUNK = 16 << 10
#: stands for "the end of the data" where an offset is expected
_ALL = 1 << 62


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

    The member index is built as reads need it, not when the file is opened:
    a load that reads a header hops over no member it does not touch (over
    a network, each hop is a request). A read reaching past the index hops
    member by member up to where it starts, then fetches the compressed
    bytes it covers in one go (:data:`PARALLEL_SPAN` at most, sized from the
    compression ratio of the members indexed so far), takes the member
    headers from them and inflates those same bytes: index and data in one
    request. A small read near the start of a large member inflates only the
    start of it (:data:`HEAD_INFLATE_CHUNK` compressed bytes, doubling).
    """

    codec = "gzip"

    def __init__(self, access: Access, file_size: int, first: tuple[int, int]) -> None:
        self._access = access
        self._file_size = file_size
        total, usize = first
        self._coffs, self._uoffs, self._csizes = [0], [0, usize], [total]
        self._largest_u, self._largest_c = usize, total  # sizes the fetch-ahead guesses from
        self._tail: StreamSource | None = None
        #: True once the index holds every member (and the tail, if any, is known)
        self._complete = False
        # _thread's lock is threading.Lock without importing threading, which a
        # load of a small gzip file otherwise never needs (a cost every process pays)
        self._lock = _thread.allocate_lock()
        self._index_lock = _thread.allocate_lock()  # held while the index grows
        #: (member, its first bytes, whether that is all of it)
        self._cache: tuple[int, bytes, bool] | None = None
        #: compressed bytes of members fetched with the index, for the read that asked
        self._fetched: dict[int, Any] = {}
        if total >= file_size:
            self._complete = True

    @property
    def size(self) -> int | None:
        if not self._complete:
            return None  # known once a read reaches the end
        return self._uoffs[-1] if self._tail is None else self._tail.size

    @property
    def members(self) -> int:
        """How many members the index holds (so far)."""
        return len(self._coffs)

    def total_size(self) -> int:
        self._index_to(_ALL, _ALL)
        return self._uoffs[-1] if self._tail is None else self._tail.total_size()

    def readinto_at(self, offset: int, out: memoryview) -> int:
        self._index_to(offset, offset + len(out))
        got = 0
        end = self._uoffs[-1]
        if offset < end:
            got = min(len(out), end - offset)
            self._read_members(offset, out[:got])
        if got < len(out) and self._tail is not None:
            got += self._tail.readinto_at(offset + got, out[got:])
        return got

    def boundaries(self, start: int, end: int) -> list[int]:
        self._index_to(start, end)
        lo = bisect.bisect_right(self._uoffs, start)
        hi = bisect.bisect_left(self._uoffs, min(end, self._uoffs[-1]))
        return self._uoffs[lo:hi]

    def stop(self) -> None:
        if self._tail is not None:
            self._tail.stop()

    def release_cache(self) -> None:
        """Drop what the tail keeps from a pass to the end (one member stays cached)."""
        with self._lock:
            self._fetched.clear()
        if self._tail is not None:
            self._tail.release_cache()

    # the index ----------------------------------------------------------------------
    def _index_to(self, start: int, end: int) -> None:
        """Grow the index until it covers ``[start, end)`` or holds every member."""
        if self._complete or self._uoffs[-1] >= end:
            return
        with self._index_lock:
            while not self._complete and self._uoffs[-1] <= start:
                self._hop()
            while not self._complete and self._uoffs[-1] < end:
                self._fetch_ahead(end)

    def _scan_pos(self) -> int:
        return self._coffs[-1] + self._csizes[-1]

    def _add(self, total: int, usize: int) -> None:
        pos = self._scan_pos()
        # appended in this order: readers bisect uoffs, then look up coffs/csizes
        self._coffs.append(pos)
        self._csizes.append(total)
        self._uoffs.append(self._uoffs[-1] + usize)
        self._largest_u = max(self._largest_u, usize)
        self._largest_c = max(self._largest_c, total)
        if pos + total >= self._file_size:
            self._complete = True

    def _hop(self) -> None:
        """Index the next member from its header alone."""
        found = layout.member_at(self._access.pread, self._scan_pos(), self._file_size)
        if found is None:
            self._end_index()
        else:
            self._add(*found)

    def _fetch_ahead(self, end: int) -> None:
        """Fetch the compressed bytes that should hold the members up to ``end``; index them.

        The window starts at the last member indexed (the read overlaps it)
        unless its bytes are already at hand, and is sized from the
        compression ratio so far.
        """
        last = len(self._coffs) - 1
        pos = self._scan_pos()
        with self._lock:
            have_last = last in self._fetched or (
                self._cache is not None and self._cache[0] == last and self._cache[2])
        base = pos if have_last else self._coffs[last]
        # members still needed, at the largest sizes seen (whole members: the last
        # one the read cuts is fetched whole too)
        needed = -(-(end - self._uoffs[-1]) // max(self._largest_u, 1))
        ahead = int(needed * self._largest_c * 1.0625)
        if ahead < 4096:
            self._hop()  # a short read past the index: the next header is enough
            return
        want = min(pos - base + ahead + 4096, max(PARALLEL_SPAN, pos - base + 64),
                   self._file_size - base)
        window = memoryview(self._access.pread(base, want))
        if base < pos and len(window) >= pos - base:
            with self._lock:
                self._fetched[last] = window[: pos - base]
        window = window[pos - base :]
        members, ended = layout.members_in(window, pos, self._file_size)
        if not members:
            if ended:
                self._end_index()
            else:
                self._hop()  # a header larger than the window, or a BGZF trailer beyond it
            return
        at = 0
        for total, usize in members:
            if at + total <= len(window):
                with self._lock:
                    self._fetched[len(self._coffs)] = window[at : at + total]
            self._add(total, usize)
            at += total
        if ended and not self._complete:
            self._end_index()

    def _end_index(self) -> None:
        """No blocked member starts where the index ends: a gzip stream may follow."""
        pos = self._scan_pos()
        if pos < self._file_size and self._access.pread(pos, 2) == layout.GZIP_MAGIC:
            self._tail = _stream_source(self._access, "gzip", cin=pos, u=self._uoffs[-1],
                                        require_data=False)
        self._complete = True

    def _compressed(self, k: int) -> Any:
        """The compressed bytes of member ``k``: fetched with the index, or read now."""
        with self._lock:
            data = self._fetched.pop(k, None)
        if data is None:
            data = self._access.pread(self._coffs[k], self._csizes[k])
        if len(data) < self._csizes[k]:
            raise ImageFileError(f"{self._access.name} is truncated inside a gzip member")
        return data

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

    def _member(self, k: int, upto: int | None = None) -> bytes:
        """Member ``k`` inflated: all of it, or at least its first ``upto`` bytes."""
        usize = self._uoffs[k + 1] - self._uoffs[k]
        with self._lock:
            cache = self._cache
            if cache is not None and cache[0] == k and (
                    cache[2] or len(cache[1]) >= (upto or usize)):
                return cache[1]
            partial_before = cache is not None and cache[0] == k
            fetched = k in self._fetched
        if (upto is not None and upto * 8 <= usize and self._csizes[k] > 2 * HEAD_INFLATE_CHUNK
                and not fetched and not partial_before):
            out, whole = self._inflate_head(k, upto), False
        else:
            out, whole = self._inflate(k, self._compressed(k)), True
        with self._lock:
            self._cache = (k, out, whole)
        return out

    def _inflate_head(self, k: int, upto: int) -> bytes:
        """The first ``upto`` (or more) bytes of member ``k``, reading only the compressed
        bytes they need: a header or a format's leading bytes in a member of data."""
        d = backends.fast_gzip_decompressobj()
        if d is None:
            d = backends.checkpoint_gzip_module().decompressobj(31)
        parts: list[bytes] = []
        got, chunk = 0, HEAD_INFLATE_CHUNK
        cpos, cend = self._coffs[k], self._coffs[k] + self._csizes[k]
        try:
            while got < upto and not d.eof:
                if cpos >= cend:
                    break
                data = self._access.pread(cpos, min(chunk, cend - cpos))
                if not data:
                    break
                cpos += len(data)
                chunk *= 2
                # at most what is asked: a member that inflates far beyond its size stops here
                part = d.decompress(data, upto - got)
                parts.append(part)
                got += len(part)
        except backends.gzip_inflate_errors() as err:
            raise ImageFileError(
                f"{self._access.name} is corrupt: invalid gzip member at byte {self._coffs[k]} "
                f"({err})"
            ) from None
        if got < upto:
            raise ImageFileError(
                f"{self._access.name} is corrupt: gzip member at byte {self._coffs[k]} ends "
                f"after {got} bytes, its header says {self._uoffs[k + 1] - self._uoffs[k]}"
            )
        return b"".join(parts)

    def _read_members(self, offset: int, out: memoryview) -> None:
        end = offset + len(out)
        first = bisect.bisect_right(self._uoffs, offset) - 1
        last = bisect.bisect_left(self._uoffs, end) - 1
        if first == last:
            start = offset - self._uoffs[first]
            data = self._member(first, start + len(out))
            out[:] = memoryview(data)[start : start + len(out)]
            return
        cut = end - self._uoffs[last]
        if cut * 8 <= self._uoffs[last + 1] - self._uoffs[last]:
            # the read ends near the start of a large member: inflate only that start
            data = self._member(last, cut)
            out[len(out) - cut :] = memoryview(data)[:cut]
            out = out[: len(out) - cut]
            last -= 1
            if first == last:
                start = offset - self._uoffs[first]
                data = self._member(first, start + len(out))
                out[:] = memoryview(data)[start : start + len(out)]
                return
        with self._lock:
            fetched = any(k in self._fetched for k in range(first, last + 1))
        executor = backends.thread_pool()
        if executor is not None or fetched:
            self._read_each(executor, first, last, offset, out)
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

    def _read_each(
        self, executor: Any, first: int, last: int, offset: int, out: memoryview
    ) -> None:
        """Each worker reads (unless fetched with the index), inflates and places whole
        members (the file is read in parallel too; memory held is a member or two per worker)."""

        def one(k: int) -> None:
            self._place(k, self._compressed(k), offset, out)

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
            first = layout.member_at(access.pread, 0, size)
            if first is not None:
                return BlockedGzipSource(access, size, first)
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

