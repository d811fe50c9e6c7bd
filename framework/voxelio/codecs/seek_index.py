"""Random access into one compressed stream through a seek index of decompressor states.

:class:`StreamSource` reads any single compressed stream (gzip written by other
tools, bzip2, zstd). It keeps the decompressor where the last read stopped, so
sequential reads never start over. For gzip it also keeps a seek index, as
zran and indexed_gzip do: a pass of the inflater whose state can be copied
(``zlib-ng``'s, or zlib's without it) copies it every
:attr:`StreamSource.spacing` decompressed bytes, so any later read of bytes
that pass went over starts at most one interval before them. The spacing grows
with the file (:func:`checkpoint_spacing`).

Once a read jumps ahead (random access, as when one volume of a series is
read), an *indexing pass* goes on to the end of the stream on a thread of its
own (at a lower priority), leaving seek points everywhere. When ISA-L is
installed (faster than zlib-ng, but its state cannot be copied), a read far
ahead of the index is served by ISA-L from the start while the indexing pass
runs on another core from where the index ends; the ISA-L pass keeps what the
indexing pass will probably not have reached when it ends (:data:`AHEAD_MAX`
at most, let go as the indexing pass gets there) and its decompressor, so
reads just behind or after it find their bytes at hand. Each read picks the
cheapest way to its bytes: kept bytes, the current decompressor, the kept
ISA-L one, a seek point, or ISA-L from the start. A read never waits for the
indexing pass; the pass skips what reads have indexed ahead of it, so no byte
is inflated twice by the copyable inflater.

Two ways around the decompressor objects, both with ISA-L's gzip reader
(:mod:`voxelio.codecs.gzip_reader`), which inflates straight into a buffer:
a large read from the start of a stream goes through it into the caller's
buffer (and a read that goes on where it stopped continues it); and a pass
to the end of a stream (the size asked, as a format with a footer does)
inflates a stream of stated size whole into one buffer that reads copy from
and a large read takes over (:mod:`voxelio.codecs.held`).

The module is longer than most: the read paths share one lock and one set
of kept states, and each needs the others' bookkeeping in view.
"""

from __future__ import annotations

import bisect
import os
import sys
import threading
from typing import Any

from ..errors import ImageFileError
from . import backends, gzip_reader
from . import gzip_layout as layout
from .access import CHUNK, HEAD_KEEP, Access
from .held import HOLD_MAX, HeldStream
from .kept import KeptChunks

#: bounds of the spacing (decompressed bytes) between seek points; each costs
#: a copied inflater state, about 42 KB (window included), plus the compressed
#: input it was last given (at most :data:`_CHECKPOINT_FEED`)
MIN_SPACING = 256 << 10
MAX_SPACING = 4 << 20
#: seek points aimed at over a whole stream (its size guessed from the file's)
TARGET_POINTS = 256
#: more seek points than this (a stream compressed far better than guessed) double
#: the spacing and drop every other point, bounding the index's memory (~24 MB)
MAX_POINTS = 2 * TARGET_POINTS
FAST_READ_MIN = 4 << 20  # reads at least this large may restart with ISA-L
PARALLEL_SPAN = 8 << 20  # compressed bytes held at once by a parallel read (peak memory)
#: decompressed bytes a pass to the end of a stream (to learn its size) keeps, so
#: that reading what lies before the end (a footer, or the data before it) does
#: not inflate the stream again
WINDOW_MAX = 80 << 20
#: decompressed bytes an ISA-L pass keeps beyond the indexing pass, so reads just
#: behind where it stopped find them at hand; each kept MB costs the pass about
#: 0.8 ms of page faults (fresh memory), so not all of the way is kept
AHEAD_MAX = 16 << 20
_SKIP_STEP = 1 << 20
_FAST_STEP = 256 << 10
#: compressed bytes given at a time to a decompressor that may become a seek point
_CHECKPOINT_FEED = 32 << 10
_MIN_FEED = 1 << 10
#: most decompressed bytes per compressed byte deflate can produce (1032:1)
_MAX_RATIO = 1032


def checkpoint_spacing(compressed_size: int | None) -> int:
    """Decompressed bytes between seek points for a stream of ``compressed_size`` bytes.

    About :data:`TARGET_POINTS` points over the stream (its decompressed size
    guessed as twice the compressed one), a power of two between
    :data:`MIN_SPACING` and :data:`MAX_SPACING`: a later read inflates at most
    one interval more than it asks for: about 0.8 ms on average for 512 KiB
    at zlib-ng's speed (330 MB/s), 1.6 ms at worst.
    """
    if not compressed_size or compressed_size <= 0:
        return MIN_SPACING
    guess = 2 * compressed_size // TARGET_POINTS
    spacing = 1 << max(guess, 1).bit_length() - 1
    return max(MIN_SPACING, min(MAX_SPACING, spacing))


_EMPTY = memoryview(b"")


class _State:
    """Where a decompressor stands: compressed input position, output position."""

    # a plain class: a dataclass costs every process that opens a gzip file
    # its creation at import
    __slots__ = ("access", "cin", "d", "fast", "inbuf", "pending", "u")

    def __init__(
        self,
        d: Any,  # decompressor of the current member/frame, None at a boundary
        cin: int,
        u: int,
        fast: bool = False,
        inbuf: memoryview = _EMPTY,
        pending: memoryview = _EMPTY,
    ) -> None:
        self.d, self.cin, self.u, self.fast = d, cin, u, fast
        self.inbuf, self.pending = inbuf, pending
        #: what this pass reads the file through, when not the source's own Access
        #: (the indexing pass: a descriptor of its own)
        self.access: Any = None


class StreamSource:
    """One compressed stream (possibly several members/frames), read with resumable state."""

    def __init__(
        self, access: Access, codec: Any, *, cin: int = 0, u: int = 0, require_data: bool = True
    ) -> None:
        self._access = access
        self._require_data = require_data
        self._codec = codec
        self.codec = codec.name
        #: how much faster ISA-L inflates than the copyable inflater (None: no ISA-L),
        #: decided once for the open file
        self._speedup = backends.fast_gzip_speedup() if self.codec == "gzip" else None
        self.size: int | None = None
        self._lock = threading.RLock()
        #: compressed bytes from the start to the end of the file when opened (None: a stream)
        self._csize = access.size()
        self.spacing = checkpoint_spacing(self._csize)
        #: decompressed bytes the reads inflated themselves (the indexing pass not included)
        self.inflated = 0
        self._start = (u, cin)
        self._cp_u: list[int] = [u]  # checkpoint output offsets, sorted
        self._cps: list[tuple[int, Any]] = [(cin, None)]  # (input offset, zlib state copy)
        self._state = _State(None, cin, u)
        # an ISA-L pass's decompressor, kept when a read goes back to a seek point:
        # reads further on may go on from it (its state cannot become a seek point)
        self._fast: _State | None = None
        # Checkpoints are guarded by their own lock: the indexing pass adds them
        # while a read (holding self._lock) decompresses.
        self._cp_lock = threading.Lock()
        # where a read's own pass of the copyable inflater started, while it runs
        self._pass_from: int | None = None
        self._pass_done = threading.Condition(self._cp_lock)
        self._indexer: threading.Thread | None = None
        self._indexer_detached = False  # whether it reads through a descriptor of its own
        self._indexed_to = u  # how far the indexing pass got (decompressed offset)
        self._indexing = False
        self._stopped = False
        self._head = bytearray()  # the first HEAD_KEEP decompressed bytes, as far as read
        self._window = KeptChunks(WINDOW_MAX)  # the end of the stream, from a pass to it
        self._ahead = KeptChunks(AHEAD_MAX)  # an ISA-L pass's bytes beyond the indexing pass
        self._keep_from = 0.0  # where an ISA-L pass starts keeping them
        #: the decompressed size (trailer) of a small stream, inflated in one call
        self._whole: int | None = None
        # ISA-L's gzip reader of the last large read from the start, and where it
        # stopped: a read that goes on from there continues it (see _read_through)
        self._through: tuple[Any, int] | None = None
        self._held: HeldStream | None = None  # the whole stream, from a pass to its end
        # [start, end) a caller said it reads front to back in pieces (see expect)
        self._expected: tuple[int, int] | None = None
        #: decompressed offset from which a pass to the end keeps nothing (keep_below)
        self._keep_limit: int | None = None

    # public -------------------------------------------------------------------------
    def expect(self, offset: int, nbytes: int) -> None:
        """Note that ``[offset, offset + nbytes)`` will be read front to back, in pieces.

        The reads inside it choose their inflater as one read of what is left
        of it would (a piece too small to restart ISA-L's pass from the start
        alone would otherwise go on with the copyable inflater); the note ends
        with the read that reaches its end, or with the next note.
        """
        with self._lock:
            self._expected = (offset, offset + nbytes) if nbytes > 0 else None

    def _planned(self, offset: int, nbytes: int) -> int:
        """Bytes a read of ``nbytes`` from ``offset`` stands for (see :meth:`expect`)."""
        expected = self._expected
        if expected is None or not expected[0] <= offset < expected[1]:
            return nbytes
        if offset + nbytes >= expected[1]:
            self._expected = None
        return max(nbytes, expected[1] - offset)

    def readinto_at(self, offset: int, out: memoryview) -> int:
        with self._lock:
            planned = self._planned(offset, len(out))
            if self.size is not None and offset >= self.size:
                return 0
            held = self._held
            if held is not None and held.start <= offset < held.end:
                got = held.readinto(offset, out)
                if got == len(out):
                    return got
                return got + self.readinto_at(offset + got, out[got:])
            window_start = self._window.start
            if window_start is not None and window_start <= offset:
                got = self._window.readinto(offset, out)
                if got == len(out) or (got and self.size is not None
                                       and offset + got >= self.size):
                    return got
                if got:
                    return got + self.readinto_at(offset + got, out[got:])
                # past what the window keeps (keep_below): inflated below
            elif window_start is not None and offset + len(out) > window_start:
                # the stream's end, kept by the pass that found its size (a
                # stream too large to hold whole): inflate only up to it
                head = window_start - offset
                got = self.readinto_at(offset, out[:head])
                if got < head:
                    return got
                return got + self.readinto_at(window_start, out[head:])
            kept = self._from_head(offset, out) or self._ahead.readinto(offset, out)
            if kept:
                if kept == len(out):
                    return kept
                return kept + self.readinto_at(offset + kept, out[kept:])
            through = self._continue_through(offset, out)
            if through is not None:
                return through
            st = self._choose(offset, planned)
            if self._can_read_through(st, planned):
                got = self._read_through(offset, out)
                if got is not None:
                    return got
            jumped = offset - st.u >= self.spacing
            start_u = st.u
            if st.fast:
                self._plan_keeping(st, offset)
            else:
                with self._cp_lock:
                    self._pass_from = st.u  # the indexing pass will not do it again
            try:
                self._skip(st, offset - st.u)
                got = 0
                while got < len(out) and st.u == offset + got:
                    u = st.u
                    chunk = self._produce(st, len(out) - got)
                    if not len(chunk):
                        break
                    self._keep(st, u, chunk)
                    out[got : got + len(chunk)] = chunk
                    got += len(chunk)
            finally:
                self.inflated += st.u - start_u
                if not st.fast:
                    with self._cp_lock:
                        self._pass_from = None
                        self._pass_done.notify_all()
            if jumped and planned < FAST_READ_MIN:
                self._maybe_start_indexer(st)
            return got

    def _can_read_through(self, st: _State, nbytes: int) -> bool:
        """Whether a large read from the start may go through ISA-L's gzip reader.

        That reader inflates straight into the output (no bytes object, no
        copy: 10-18% less CPU for a whole T1), but leaves no state to keep, so it
        serves only a fresh ISA-L pass from the start that nothing else
        watches (no indexing pass to keep bytes for).
        """
        return (self.codec == "gzip" and st.fast and st.d is None and nbytes >= FAST_READ_MIN
                and (st.u, st.cin) == self._start and not self._indexing
                and self._access.seekable)

    def _read_through(self, offset: int, out: memoryview) -> int | None:
        """Inflate from the stream's start into ``out`` (from ``offset``) with ISA-L's
        gzip reader, which is kept for a read that goes on where this one ends;
        None when it cannot (then the ordinary pass reads, and reports any error
        in its words)."""
        reader = gzip_reader.fast_reader(self._access, self._start[1])
        if reader is None:
            return None
        return self._go_through(reader, self._start[0], offset, out)

    def _continue_through(self, offset: int, out: memoryview) -> int | None:
        """Go on with the kept gzip reader when ``offset`` is where it stopped, or ahead
        of it and no seek point is nearer (in time); else let it go. None when there
        is none (or it failed)."""
        if self._through is None:
            return None
        reader, u = self._through
        self._through = None
        if offset < u:
            return None
        if offset > u:
            with self._cp_lock:
                cp_u = self._cp_u[bisect.bisect_right(self._cp_u, offset) - 1]
            if (offset - u) / (self._speedup or 1.0) > offset - cp_u:
                return None
        return self._go_through(reader, u, offset, out)

    def _go_through(self, reader: Any, u: int, offset: int, out: memoryview) -> int | None:
        """Inflate with ``reader`` (at decompressed offset ``u``) up to ``offset``, then
        into ``out``; the reader is kept if the stream goes on. None if it failed."""
        try:
            skipped = gzip_reader.skip(reader, offset - u)
            got = gzip_reader.fill(reader, out) if skipped == offset - u else 0
        except gzip_reader.reader_errors():
            return None
        self.inflated += skipped + got
        if got == len(out):
            self._through = (reader, offset + got)
        elif self.size is None:
            self.size = u + skipped + got  # the stream ended
        return got

    def total_size(self) -> int:
        with self._lock:
            if self.size is None and not self._hold_whole():
                st = self._choose(self._size_guess(), FAST_READ_MIN)
                self._window.clear()
                while True:
                    u = st.u
                    # kept chunks of 512 KiB inflate faster than 1 MiB ones (allocator)
                    chunk = self._produce(st, _SKIP_STEP // 2)
                    if not len(chunk):
                        break
                    self._keep_window(u, chunk)
            assert self.size is not None
            return self.size

    def keep_below(self, offset: int) -> None:
        """Keep no decompressed bytes from ``offset`` on when a pass goes to the end.

        A pass to the end (to learn the size) keeps the stream whole, or its
        last :data:`WINDOW_MAX` bytes, for the reads that follow. A caller
        that knows its reads stop at ``offset`` (a format whose header says
        where the data and a bounded footer end) says so here: bytes beyond
        are inflated to learn the size but not kept, so a stream far longer
        than its header says (junk, a decompression bomb) costs no memory.
        """
        self._keep_limit = offset

    def _keep_window(self, u: int, chunk: memoryview) -> None:
        """Keep ``chunk`` (from offset ``u``) in the window, up to the keep limit."""
        limit = self._keep_limit
        if limit is not None:
            if u >= limit:
                return
            chunk = chunk[: limit - u]
        self._window.add(u, chunk)

    def release_cache(self) -> None:
        """Drop the decompressed bytes kept from a pass to the end.

        A kept gzip reader stays (a few hundred KB of state, no decompressed
        data): a proxy releases after every read, and the next read of a
        front-to-back pass (chunk after chunk of a dask array) goes on with it
        instead of inflating the stream again from its start.
        """
        self._window.clear()
        self._held = None

    def take_range(self, offset: int, nbytes: int, align: int = 1) -> Any | None:
        """The held bytes ``[offset, offset + nbytes)``, handed over without a copy, or None.

        See :meth:`voxelio.codecs.held.HeldStream.take`; once taken, the
        stream is held no more (later reads inflate again).
        """
        with self._lock:
            held = self._held
            part = None if held is None else held.take(offset, nbytes, align)
            if part is not None:
                self._held = None
            return part

    def stop(self) -> None:
        """Stop background work (the file is being closed)."""
        self._stopped = True
        with self._cp_lock:
            self._pass_done.notify_all()
        indexer = self._indexer
        if indexer is not None and indexer is not threading.current_thread():
            if self._indexer_detached:
                # it reads through a descriptor of its own, which it closes when it
                # stops at its next step: close need not wait for a pass that a busy
                # machine runs late (it runs at a lower priority)
                return
            indexer.join()

    # a pass to the end, into one buffer -----------------------------------------------
    def _hold_whole(self) -> bool:
        """Inflate the whole stream into one :class:`HeldStream`; False when it is not
        worth trying (no plausible size stated) or ISA-L's reader failed (then the
        ordinary pass goes to the end instead, and reports any problem)."""
        capacity = self._stated_size()
        if capacity is None:
            return False
        held = HeldStream(self._start[0], capacity)
        self._window.clear()
        reader = gzip_reader.fast_reader(self._access, self._start[1])
        if reader is None:
            self._pass_into(held)
        else:
            try:
                held.filled_by(gzip_reader.fill(reader, held.free()))
                u = held.end
                # more than stated (several members): the window keeps the rest; a
                # one-byte probe first, as a large read allocates its size at once
                chunk = reader.read(1)
                while chunk:
                    self._keep_window(u, memoryview(chunk))
                    u += len(chunk)
                    chunk = reader.read(_SKIP_STEP // 2)
            except gzip_reader.reader_errors():
                self._window.clear()
                return False
            self.size = u
        self._held = held
        return True

    def _stated_size(self) -> int | None:
        """The decompressed size a single gzip stream states (its ISIZE), when it is
        worth a buffer: above what reads have seen, at most :data:`HOLD_MAX` and what
        the compressed size can hold; None otherwise."""
        compressed = self._access.size()
        if self.codec != "gzip" or not self._access.seekable or compressed is None:
            return None
        stated = layout.last_member_size(self._access.pread, compressed)
        if stated is None:
            return None
        seen = max(self._cp_u[-1], self._state.u, self._start[0] + len(self._head))
        if not seen - self._start[0] < stated <= min(HOLD_MAX, _MAX_RATIO * compressed):
            return None
        if self._keep_limit is not None:  # no buffer for bytes no read will want
            stated = max(0, min(stated, self._keep_limit - self._start[0]))
        return stated

    def _pass_into(self, held: HeldStream) -> None:
        """Inflate from the stream's start to its end with the sources' own pass,
        into ``held`` and, for bytes beyond it, the window."""
        st = self._choose(held.start, held.free().nbytes)
        while True:
            u = st.u
            chunk = self._produce(st, _SKIP_STEP // 2)
            if not len(chunk):
                return
            n = held.append(chunk) if self._window.start is None else 0
            if n < len(chunk):
                self._keep_window(u + n, chunk[n:])

    # bytes kept decompressed ------------------------------------------------------------
    def _from_head(self, offset: int, out: memoryview) -> int:
        """Copy what the kept head of the stream holds from ``offset`` into ``out``."""
        lo = offset - self._start[0]
        n = min(len(out), len(self._head) - lo)
        if lo < 0 or n <= 0:
            return 0
        out[:n] = memoryview(self._head)[lo : lo + n]
        return n

    def _keep(self, st: _State, u: int, chunk: memoryview) -> None:
        """Keep what a read's pass inflated (``chunk``, from offset ``u``) where it pays."""
        end = self._start[0] + len(self._head)
        if u <= end < u + len(chunk) and len(self._head) < HEAD_KEEP:
            self._head += chunk[end - u : end - u + HEAD_KEEP - len(self._head)]
        if st.fast and self._indexing and u + len(chunk) > self._keep_from:
            with self._cp_lock:
                # under the lock: the indexing pass drops what it passes, and all
                # when it ends, so nothing is left behind for good
                if self._indexing and u + len(chunk) > self._indexed_to:
                    self._ahead.add(u, chunk)

    def _plan_keeping(self, st: _State, offset: int) -> None:
        """Before an ISA-L pass from ``st`` to ``offset``: keep only what the indexing
        pass will probably not have reached when this pass gets there."""
        speedup = self._speedup or 1.0
        with self._cp_lock:
            self._keep_from = self._indexed_to + (offset - st.u) / speedup

    # state choice -------------------------------------------------------------------
    def _choose(self, offset: int, nbytes: int) -> _State:
        """The cheapest state to reach ``offset`` from: the current decompressor, the
        kept ISA-L one, a seek point, or ISA-L from the start."""
        speedup = self._speedup
        cur, fast = self._state, self._fast
        with self._cp_lock:
            k = bisect.bisect_right(self._cp_u, offset) - 1
            cp_u = self._cp_u[k]
            cp_cin, saved = self._cps[k]
            indexing = self._indexing
        # Time to the requested bytes, in units of the copyable inflater's speed.
        # A read ahead of the indexing pass never waits for it (on a busy machine
        # it runs late): it goes on from the last seek point, which the pass
        # then skips (_catch_up).
        costs: dict[str, float] = {}
        if cur.u <= offset:
            costs["cur"] = (offset - cur.u + nbytes) / (speedup if cur.fast else 1.0)
        if speedup and fast is not None and fast.u <= offset:
            costs["kept fast"] = (offset - fast.u + nbytes) / speedup
        costs["cp"] = offset - cp_u + nbytes
        # ISA-L from the start leaves no seek points: for a small read, only the
        # first jump (the indexing pass starts beside it); later ones build the
        # index themselves, or a busy machine would see every read start over
        if speedup and (nbytes >= FAST_READ_MIN or (
                offset - cp_u >= self.spacing and self._can_index())):
            costs["fast"] = (offset - self._start[0] + nbytes) / speedup
        best = min(costs, key=costs.__getitem__)  # ties: the order above
        if best == "cur":
            return cur
        if best == "kept fast":
            st, self._fast = fast, None
        elif best == "fast":
            st = _State(None, self._start[1], self._start[0], fast=True)
        else:
            st = _State(None if saved is None else saved.copy(), cp_cin, cp_u)
        self._retire(cur)
        self._state = st
        if st.fast and nbytes < FAST_READ_MIN and not indexing:
            # a jump served by ISA-L: the index is built meanwhile on another core
            self._start_indexer(self._frontier())
        return st

    def _size_guess(self) -> int:
        """Where the end of the stream probably is (decompressed), to choose a pass to it."""
        compressed = self._access.size() or 0
        return max(self._cp_u[-1], self._state.u, 2 * compressed)

    def _retire(self, st: _State) -> None:
        # A zlib state being abandoned becomes a checkpoint (no copy needed); an
        # ISA-L state is kept aside (the newest one) for reads further on.
        if st.fast:
            self._fast = st
        elif self._codec.can_checkpoint and st.d is not None:
            self._add_checkpoint(st.u, st.cin, st.d, self.spacing // 2)

    def _add_checkpoint(self, u: int, cin: int, state: Any, spacing: int) -> None:
        with self._cp_lock:
            k = bisect.bisect_right(self._cp_u, u)
            if u - self._cp_u[k - 1] < spacing:
                return
            if k < len(self._cp_u) and self._cp_u[k] - u < spacing:
                return
            self._cp_u.insert(k, u)
            self._cps.insert(k, (cin, state))

    # the indexing pass ------------------------------------------------------------------
    def _can_index(self) -> bool:
        """True when an indexing pass may start: once per source, a codec with copyable
        states, a file read by position (two passes at once) and more than one thread."""
        return (self._indexer is None and not self._stopped and self._codec.can_checkpoint
                and self._access.seekable and backends.thread_count() > 1)

    def _frontier(self) -> _State:
        """A state at the last seek point, where the index ends."""
        with self._cp_lock:
            u = self._cp_u[-1]
            cin, saved = self._cps[-1]
        return _State(None if saved is None else saved.copy(), cin, u)

    def _maybe_start_indexer(self, st: _State) -> None:
        """Go on from ``st``, where a read that jumped ahead stopped, on another thread.

        Reads are random, so seek points everywhere will pay off. Not for
        ISA-L passes (their state cannot be copied) nor at the end of the stream.
        """
        if (st.fast or st.d is None or len(st.pending) or self.size is not None
                or not self._can_index()):
            return
        self._start_indexer(_State(st.d.copy(), st.cin, st.u, inbuf=st.inbuf))

    def _start_indexer(self, st: _State) -> None:
        """Run the indexing pass from ``st`` (a state of its own) to the end of the stream."""
        if not self._can_index():
            return
        st.access = self._access.duplicate()
        self._indexer_detached = st.access is not None
        with self._cp_lock:
            self._indexing = True
            self._indexed_to = st.u
        self._indexer = threading.Thread(
            target=self._index, args=(st,), name="voxelio-gzip-index", daemon=True
        )
        self._indexer.start()

    def _index(self, st: _State) -> None:
        own = st.access
        try:
            _lower_priority_of_this_thread()
            step = min(_SKIP_STEP, self.spacing)
            while not self._stopped:
                if not len(self._produce(st, step)):
                    break
                st = self._catch_up(st)
                st.access = own
        except Exception:  # the reads that need these bytes report it themselves
            pass
        finally:
            with self._cp_lock:
                self._indexing = False
                self._ahead.clear()
            if own is not None:
                own.close()

    def _catch_up(self, st: _State) -> _State:
        """Record how far the indexing pass got; skip what reads have indexed ahead of it.

        Returns the state the pass goes on from: ``st``, or a copy of the last
        of the seek points that follow it at most one interval apart. A read
        inflating from about where the pass is (a read never waits for the
        pass) is let finish first, so no byte is inflated by both.
        """
        with self._cp_lock:
            self._indexed_to = st.u
            while True:
                k = bisect.bisect_right(self._cp_u, st.u) - 1
                reach = st.u
                while k + 1 < len(self._cp_u) and self._cp_u[k + 1] <= reach + self.spacing:
                    k += 1
                    reach = self._cp_u[k]
                # a read inflating from about here on: let it finish, then skip its part
                busy = self._pass_from
                if (self._stopped or busy is None
                        or not st.u - self.spacing <= busy <= reach + self.spacing):
                    break
                self._pass_done.wait()
            if reach > st.u:
                cin, saved = self._cps[k]
                st = _State(None if saved is None else saved.copy(), cin, reach)
                self._indexed_to = reach
            self._ahead.drop_below(self._indexed_to)
        return st

    # decompression --------------------------------------------------------------------
    def _skip(self, st: _State, n: int) -> None:
        # steps of one interval at most, so the pass leaves every seek point; ISA-L's
        # output buffers are allocated at the size asked, and past 256 KiB each is
        # fresh memory from the system (page faults: 60 ms of a 200 ms pass)
        step = _FAST_STEP if st.fast else min(_SKIP_STEP, self.spacing)
        while n > 0:
            u = st.u
            chunk = self._produce(st, min(n, step))
            got = len(chunk)
            if not got:
                return
            self._keep(st, u, chunk)
            n -= got

    def _fetch(self, st: _State, at_least: int) -> None:
        if len(st.inbuf) < at_least:
            n = max(CHUNK, at_least)
            left = None if self._csize is None else self._csize - st.cin
            if left is not None and left >= at_least:
                n = min(n, left)  # a small file: no buffer larger than what is left of it
            st.inbuf = memoryview((st.access or self._access).pread(st.cin, n))

    def _small_stream_size(self, st: _State) -> int | None:
        """The decompressed size of a small stream, as its gzip trailer tells it: when ``st``
        starts the stream, all of its compressed bytes are in ``st.inbuf`` and it
        decompresses to at most :data:`HEAD_KEEP` bytes; else None.

        Such a stream (a small file) is inflated in one call, by the fastest
        inflater even if its state cannot be copied: all of it is kept (the
        head), so no read ever needs a seek point.
        The trailer's size is a hint only (it counts the last member only):
        a wrong one costs speed, never correctness.
        """
        if (self.codec != "gzip" or (st.cin, st.u) != (self._start[1], self._start[0])
                or self._csize is None or len(st.inbuf) != self._csize - st.cin
                or len(st.inbuf) < 18):
            return None
        size = int.from_bytes(st.inbuf[-4:], "little")
        return size if size <= HEAD_KEEP else None

    def _begin(self, st: _State) -> bool:
        """Start the next member/frame at ``st.cin``; False at the end of the data."""
        self._fetch(st, 4)
        head = bytes(st.inbuf[:4])
        if not any(head.startswith(m) for m in self._codec.magics):
            if self._require_data and st.cin == self._start[1]:
                raise ImageFileError(f"{self._access.name} holds no {self.codec} data")
            # Trailing bytes that start no new member (padding) end the data.
            self.size = st.u
            return False
        small = None if st.fast else self._small_stream_size(st)
        st.d, st.fast = self._codec.new(st.fast or small is not None)
        if small is not None:
            self._whole = small
        self._add_checkpoint(st.u, st.cin, None, 64 * 1024)
        return True

    def _produce(self, st: _State, max_out: int) -> memoryview:
        """The next decompressed bytes (at most ``max_out``), consumed; empty at the end."""
        if len(st.pending):
            chunk, st.pending = st.pending[:max_out], st.pending[max_out:]
            st.u += len(chunk)
            return chunk
        stalls = 0
        while True:
            if st.d is None and not self._begin(st):
                return memoryview(b"")
            self._fetch(st, 1)
            at_end = not len(st.inbuf)  # the decoder may still hold output
            want, feed = max_out, st.inbuf
            if self._whole is not None:
                # all of a small stream in one call; what the read does not take is pending
                # (an output buffer of the trailer's size: a larger one costs fresh memory)
                want = max(max_out, min(self._whole + 1, HEAD_KEEP))
            elif self._codec.can_checkpoint and not st.fast:
                # stop at the next multiple of the spacing, where a seek point goes
                to_point = self.spacing - (st.u - self._start[0]) % self.spacing
                want = min(max_out, to_point)
                # A decompressor copied as a seek point keeps the input it was
                # last given (its unconsumed_tail): give it little at a time, and
                # less near the point (deflate rarely more than halves data).
                feed = st.inbuf[: max(_MIN_FEED, min(_CHECKPOINT_FEED, to_point // 2))]
            try:
                out, used = self._codec.step(st.d, feed, want)
            except self._codec.errors as err:
                self._forget(st)
                raise ImageFileError(
                    f"{self._access.name} is corrupt: invalid {self.codec} data near "
                    f"compressed byte {st.cin} ({err})"
                ) from None
            if at_end and not len(out) and not st.d.eof:
                raise ImageFileError(
                    f"{self._access.name} is truncated: the {self.codec} stream ends early "
                    f"(after {st.u} decompressed bytes)"
                )
            st.cin += used
            st.inbuf = st.inbuf[used:] if 0 <= used <= len(st.inbuf) else memoryview(b"")
            if st.d.eof:
                st.d = None
            if len(out):
                view = memoryview(out)
                chunk, st.pending = view[:max_out], view[max_out:]
                st.u += len(chunk)
                if self._codec.can_checkpoint and st.d is not None and not st.fast:
                    self._maybe_copy(st)
                return chunk
            stalls = 0 if used or st.d is None else stalls + 1
            if stalls > 3:
                raise ImageFileError(
                    f"{self._access.name} is corrupt: the {self.codec} decoder makes no progress"
                )

    def _forget(self, st: _State) -> None:
        """Let go of a state whose decoder failed: no read may go on from it.

        A failed decoder is in no state to go on (bz2's refuses any further
        call with a RuntimeError); a later read starts again from the
        stream's start and meets the corruption as an ImageFileError again.
        """
        if self._state is st:
            self._state = _State(None, self._start[1], self._start[0])
        if self._fast is st:
            self._fast = None

    def _maybe_copy(self, st: _State) -> None:
        if (st.u - self._start[0]) % self.spacing:
            return
        with self._cp_lock:
            k = bisect.bisect_right(self._cp_u, st.u)
            if self._cp_u[k - 1] != st.u:
                self._cp_u.insert(k, st.u)
                self._cps.insert(k, (st.cin, st.d.copy()))
            if len(self._cp_u) > MAX_POINTS:
                self._thin()

    def _thin(self) -> None:
        """Double the spacing; keep the points on it (and member starts, which hold no state)."""
        self.spacing *= 2
        start = self._start[0]
        keep = [i for i, (u, (_, state)) in enumerate(zip(self._cp_u, self._cps, strict=True))
                if state is None or (u - start) % self.spacing == 0]
        self._cp_u = [self._cp_u[i] for i in keep]
        self._cps = [self._cps[i] for i in keep]


#: niceness added to the indexing pass's thread: on a busy machine it yields to the
#: read it runs beside (and to other programs); on an idle core it runs at full speed
INDEXER_NICENESS = 10


def _lower_priority_of_this_thread() -> None:
    """Lower the scheduling priority of the calling thread, where threads have their own."""
    # Linux schedules threads separately (setpriority on a thread id); elsewhere
    # the call would change the whole process, so it is not made.
    if not sys.platform.startswith("linux"):
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid)
                       + INDEXER_NICENESS)
    except (AttributeError, OSError):
        pass

