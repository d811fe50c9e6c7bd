"""Random access into one compressed stream through a seek index of decompressor states.

:class:`StreamSource` reads any single compressed stream (gzip written by other
tools, bzip2, zstd). It keeps the decompressor where the last read stopped, so
sequential reads never start over. For gzip it also keeps a seek index, as
zran and indexed_gzip do: the pass that serves a read copies the inflater's
state (``zlib-ng``'s, or zlib's without it) every :attr:`StreamSource.spacing`
decompressed bytes, so any later read of bytes that pass went over starts at
most one interval before them. The spacing grows with the file
(:func:`checkpoint_spacing`). Once a read jumps ahead (random access, as when
one volume of a series is read), the pass goes on to the end of the stream on
a thread of its own, leaving seek points everywhere; a read beyond where it
has got waits for it (it is as fast as a restart would be).

Large reads from gzip may use ISA-L instead (faster, but its state cannot be
copied, so those passes leave member boundaries only).
"""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass, field
from typing import Any

from ..errors import ImageFileError
from . import backends
from .access import CHUNK, Access

#: bounds of the spacing (decompressed bytes) between seek points; each costs
#: a copied inflater state, about 45 KB (window included)
MIN_SPACING = 256 << 10
MAX_SPACING = 4 << 20
#: seek points aimed at over a whole stream (its size guessed from the file's)
TARGET_POINTS = 128
#: more seek points than this (a stream compressed far better than guessed) double
#: the spacing and drop every other point, bounding the index's memory (~20 MB)
MAX_POINTS = 2 * TARGET_POINTS
FAST_READ_MIN = 4 << 20  # reads at least this large may restart with ISA-L
PARALLEL_SPAN = 8 << 20  # compressed bytes held at once by a parallel read (peak memory)
#: decompressed bytes a pass to the end of a stream (to learn its size) keeps, so
#: that reading what lies before the end (a footer, or the data before it) does
#: not inflate the stream again
WINDOW_MAX = 80 << 20
_SKIP_STEP = 1 << 20
#: decompressed bytes kept from the start of a stream, so that reading it again
#: (format detection, then the header, then a small file's data) inflates it once
HEAD_KEEP = 256 << 10
#: compressed bytes given at a time to a decompressor that may become a seek point
_CHECKPOINT_FEED = 32 << 10


def checkpoint_spacing(compressed_size: int | None) -> int:
    """Decompressed bytes between seek points for a stream of ``compressed_size`` bytes.

    About :data:`TARGET_POINTS` points over the stream (its decompressed size
    guessed as twice the compressed one), a power of two between
    :data:`MIN_SPACING` and :data:`MAX_SPACING`: a later read inflates at most
    one interval more than it asks for, which at zlib-ng's speed is 1-3 ms
    for 1 MiB.
    """
    if not compressed_size or compressed_size <= 0:
        return MIN_SPACING
    guess = 2 * compressed_size // TARGET_POINTS
    spacing = 1 << max(guess, 1).bit_length() - 1
    return max(MIN_SPACING, min(MAX_SPACING, spacing))


@dataclass
class _State:
    """Where a decompressor stands: compressed input position, output position."""

    d: Any  # decompressor of the current member/frame, None at a boundary
    cin: int
    u: int
    fast: bool = False
    inbuf: memoryview = field(default_factory=lambda: memoryview(b""))
    pending: memoryview = field(default_factory=lambda: memoryview(b""))


class StreamSource:
    """One compressed stream (possibly several members/frames), read with resumable state."""

    def __init__(
        self, access: Access, codec: Any, *, cin: int = 0, u: int = 0, require_data: bool = True
    ) -> None:
        self._access = access
        self._require_data = require_data
        self._codec = codec
        self.codec = codec.name
        self.size: int | None = None
        self._lock = threading.RLock()
        self.spacing = checkpoint_spacing(access.size())
        #: decompressed bytes the reads inflated themselves (the indexing pass not included)
        self.inflated = 0
        self._start = (u, cin)
        self._cp_u: list[int] = [u]  # checkpoint output offsets, sorted
        self._cps: list[tuple[int, Any]] = [(cin, None)]  # (input offset, zlib state copy)
        self._state = _State(None, cin, u)
        # Checkpoints are guarded by their own lock: a background indexer adds
        # them while a read (holding self._lock) decompresses.
        self._cp_lock = threading.Lock()
        self._indexed = threading.Condition(self._cp_lock)
        self._indexer: threading.Thread | None = None
        self._indexed_to = u  # how far the indexer got (decompressed offset)
        self._indexing = False
        self._stopped = False
        self._head = bytearray()  # the first HEAD_KEEP decompressed bytes, as far as read
        # the last decompressed chunks of a pass to the end: output offsets, chunks
        self._win_u: list[int] = []
        self._win: list[memoryview] = []

    # public -------------------------------------------------------------------------
    def readinto_at(self, offset: int, out: memoryview) -> int:
        with self._lock:
            if self._win and self._win_u[0] <= offset:
                return self._from_window(offset, out)
            kept = self._from_head(offset, out)
            if kept:
                if kept == len(out):
                    return kept
                return kept + self.readinto_at(offset + kept, out[kept:])
            st = self._choose(offset, len(out))
            jumped = offset - st.u >= self.spacing
            start_u = st.u
            self._skip(st, offset - st.u)
            got = 0
            while got < len(out) and st.u == offset + got:
                u = st.u
                chunk = self._produce(st, len(out) - got)
                if not len(chunk):
                    break
                if u < self._start[0] + HEAD_KEEP:
                    self._keep_head(u, chunk)
                out[got : got + len(chunk)] = chunk
                got += len(chunk)
            self.inflated += st.u - start_u
            if jumped and len(out) < FAST_READ_MIN:
                self._maybe_start_indexer(st)
            return got

    def total_size(self) -> int:
        with self._lock:
            if self.size is None:
                st = self._choose(1 << 62, FAST_READ_MIN)
                win_u, win, kept = self._win_u, self._win, 0
                win_u.clear()
                win.clear()
                while True:
                    u = st.u
                    # kept chunks of 512 KiB inflate faster than 1 MiB ones (allocator)
                    chunk = self._produce(st, _SKIP_STEP // 2)
                    if not len(chunk):
                        break
                    win_u.append(u)
                    win.append(chunk)
                    kept += len(chunk)
                    while kept - len(win[0]) >= WINDOW_MAX:
                        kept -= len(win[0])
                        del win_u[0], win[0]
            assert self.size is not None
            return self.size

    def release_cache(self) -> None:
        """Drop the decompressed bytes kept from a pass to the end."""
        with self._lock:
            self._win_u, self._win = [], []

    def _from_head(self, offset: int, out: memoryview) -> int:
        """Copy what the kept head of the stream holds from ``offset`` into ``out``."""
        lo = offset - self._start[0]
        n = min(len(out), len(self._head) - lo)
        if lo < 0 or n <= 0:
            return 0
        out[:n] = memoryview(self._head)[lo : lo + n]
        return n

    def _keep_head(self, u: int, chunk: memoryview) -> None:
        """Keep ``chunk`` (decompressed from offset ``u``) if it extends the head."""
        end = self._start[0] + len(self._head)
        if u <= end < u + len(chunk) and len(self._head) < HEAD_KEEP:
            self._head += chunk[end - u : end - u + HEAD_KEEP - len(self._head)]

    def _from_window(self, offset: int, out: memoryview) -> int:
        k = bisect.bisect_right(self._win_u, offset) - 1
        got = 0
        while got < len(out) and k < len(self._win):
            chunk = self._win[k]
            lo = offset + got - self._win_u[k]
            n = min(len(out) - got, len(chunk) - lo)
            if n > 0:
                out[got : got + n] = chunk[lo : lo + n]
                got += n
            k += 1
        return got

    # state choice -------------------------------------------------------------------
    def _choose(self, offset: int, nbytes: int) -> _State:
        """The cheapest state to reach ``offset`` from: current, seek point or fast restart."""
        cur = self._state
        with self._cp_lock:
            # The indexing pass will be there no later than this thread would
            # (same inflater), unless the current state is already ahead of it.
            while (self._indexing and self._indexed_to < offset
                   and not (self._indexed_to <= cur.u <= offset)):
                self._indexed.wait()
            k = bisect.bisect_right(self._cp_u, offset) - 1
            cp_u = self._cp_u[k]
            cp_cin, saved = self._cps[k]

        fast_speed = 1.25 if backends.has_fast_gzip() else 1.0  # ISA-L vs the indexing inflater

        def cost(u: int, fast: bool) -> float:
            return (offset - u + nbytes) / (fast_speed if fast else 1.0)

        best = ("cp", cost(cp_u, False))
        if cur.u <= offset and cost(cur.u, cur.fast) <= best[1]:
            best = ("cur", cost(cur.u, cur.fast))
        if (self.codec == "gzip" and backends.has_fast_gzip() and nbytes >= FAST_READ_MIN
                and cost(self._start[0], True) < best[1]):
            best = ("fast", cost(self._start[0], True))
        if best[0] == "cur":
            return cur
        if best[0] == "fast":
            st = _State(None, self._start[1], self._start[0], fast=True)
        else:
            st = _State(None if saved is None else saved.copy(), cp_cin, cp_u)
        self._retire(cur)
        self._state = st
        return st

    def _retire(self, st: _State) -> None:
        # A zlib state being abandoned becomes a checkpoint (no copy needed).
        if self._codec.can_checkpoint and st.d is not None and not st.fast:
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

    # background indexing ----------------------------------------------------------------
    def _maybe_start_indexer(self, st: _State) -> None:
        """Go on from ``st`` to the end of the stream on another thread, leaving seek points.

        Called after a read that jumped ahead: reads are random, so seek
        points everywhere will pay off. Once per source; not for streams that
        cannot seek, codecs without copyable states, ISA-L passes or one thread.
        """
        if (self._indexer is not None or self._stopped or st.fast or st.d is None
                or len(st.pending) or not self._codec.can_checkpoint
                or not self._access.seekable or self.size is not None
                or backends.thread_count() <= 1):
            return
        ahead = _State(st.d.copy(), st.cin, st.u, inbuf=st.inbuf)
        with self._cp_lock:
            self._indexing = True
            self._indexed_to = ahead.u
        self._indexer = threading.Thread(
            target=self._index, args=(ahead,), name="voxelio-gzip-index", daemon=True
        )
        self._indexer.start()

    def _index(self, st: _State) -> None:
        try:
            step = min(_SKIP_STEP, self.spacing)
            while not self._stopped:
                if not len(self._produce(st, step)):
                    break
                with self._cp_lock:
                    self._indexed_to = st.u
                    self._indexed.notify_all()
        except Exception:  # the reads that need these bytes report it themselves
            pass
        finally:
            with self._cp_lock:
                self._indexing = False
                self._indexed.notify_all()

    def stop(self) -> None:
        """Stop background work (the file is being closed)."""
        self._stopped = True
        indexer = self._indexer
        if indexer is not None and indexer is not threading.current_thread():
            indexer.join()

    # decompression --------------------------------------------------------------------
    def _skip(self, st: _State, n: int) -> None:
        while n > 0:
            # steps of one interval at most, so the pass leaves every seek point
            u = st.u
            chunk = self._produce(st, min(n, _SKIP_STEP, self.spacing))
            if u < self._start[0] + HEAD_KEEP:
                self._keep_head(u, chunk)
            got = len(chunk)
            if not got:
                return
            n -= got

    def _fetch(self, st: _State, at_least: int) -> None:
        if len(st.inbuf) < at_least:
            st.inbuf = memoryview(self._access.pread(st.cin, max(CHUNK, at_least)))

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
        st.d, st.fast = self._codec.new(st.fast)
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
            want = max_out
            if self._codec.can_checkpoint and not st.fast:
                # stop at the next multiple of the spacing, where a seek point goes
                want = min(max_out, self.spacing - (st.u - self._start[0]) % self.spacing)
            feed = st.inbuf
            if self._codec.can_checkpoint and not st.fast:
                # a decompressor copied as a seek point keeps the input it was
                # last given (its unconsumed_tail): give it little at a time
                feed = st.inbuf[:_CHECKPOINT_FEED]
            try:
                out, used = self._codec.step(st.d, feed, want)
            except self._codec.errors as err:
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
