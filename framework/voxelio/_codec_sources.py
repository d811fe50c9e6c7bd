"""Random access to the decompressed bytes of a file: sources and their reader.

A *source* answers ``readinto_at(offset, buffer)`` for one file, whatever its
codec, and guards its own state with a lock so several threads may read at
once. Three kinds exist:

- :class:`PlainSource`: uncompressed bytes, positional reads.
- :class:`StreamSource`: any single compressed stream (gzip written by other
  tools, bzip2, zstd). It keeps the decompressor where the last read stopped,
  so sequential reads never start over, and, for gzip, copies of zlib's state
  every ``CHECKPOINT_SPACING`` output bytes, so a later backward read resumes
  from the nearest checkpoint instead of the start. Large reads from gzip
  use ISA-L when it is installed (about twice zlib's speed, but its state
  cannot be copied, so those passes leave member boundaries only).
- :class:`BlockedGzipSource`: gzip files made of independent members that
  declare their sizes (see :mod:`voxelio._gzipblocks`); reads inflate only
  the members they overlap, several members in parallel on the shared pool.

:class:`IndexedReader` wraps a source as a read-only binary file.

(About 530 lines on purpose: the three sources share their locking and
range-reading contract, which reads best side by side.)
"""

from __future__ import annotations

import bisect
import io
import os
import threading
from dataclasses import dataclass, field
from typing import Any

from . import _codec_backends as backends
from . import _gzipblocks as blocks
from .errors import ImageFileError

CHUNK = 256 * 1024  # compressed bytes fetched per read from the file
CHECKPOINT_SPACING = 1 << 20  # uncompressed bytes between zlib state copies
FAST_READ_MIN = 4 << 20  # reads at least this large may restart with ISA-L
PARALLEL_SPAN = 8 << 20  # compressed bytes held at once by a parallel read (peak memory)
#: decompressed bytes a pass to the end of a stream (to learn its size) keeps, so
#: that reading what lies before the end (a footer, or the data before it) does
#: not inflate the stream again
WINDOW_MAX = 80 << 20
#: a small read this far (decompressed bytes) beyond the nearest checkpoint
#: restarts with ISA-L while a background thread builds the zlib checkpoints
INDEX_AHEAD_MIN = 16 << 20
_SKIP_STEP = 1 << 20


def _read_full(fobj: Any, n: int) -> bytes:
    parts = []
    while n > 0:
        part = fobj.read(n)
        if not part:
            break
        parts.append(part)
        n -= len(part)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def is_seekable(fobj: Any) -> bool:
    try:
        return bool(fobj.seekable())
    except (AttributeError, OSError, ValueError):
        return False


class Access:
    """Positional reads of a file's compressed bytes, counted from where it started.

    Seekable files are read with ``os.pread`` when voxelio opened them itself,
    otherwise by seek and read under a lock. A stream that cannot seek is read
    forward only; a short look-back buffer lets a reader re-read the bytes at
    the position it last asked for.
    """

    def __init__(self, fobj: Any, name: str, *, own: bool = False) -> None:
        self.name = name
        self._fobj = fobj
        self._lock = threading.Lock()
        self.seekable = is_seekable(fobj)
        self._base = fobj.tell() if self.seekable else 0
        self._fd: int | None = None
        if own and self.seekable and hasattr(os, "pread"):
            try:
                self._fd = fobj.fileno()
            except (AttributeError, OSError, io.UnsupportedOperation):
                self._fd = None
        self._buf = b""  # streams only: bytes from offset self._buf_start on
        self._buf_start = 0

    def pread(self, offset: int, n: int) -> bytes:
        """Up to ``n`` bytes at ``offset`` (fewer only at the end of the file)."""
        try:
            if self._fd is not None:
                return os.pread(self._fd, n, self._base + offset)
            with self._lock:
                if self.seekable:
                    self._fobj.seek(self._base + offset)
                    return _read_full(self._fobj, n)
                return self._stream_read(offset, n)
        except OSError as err:
            raise ImageFileError(f"cannot read {self.name}: {err}") from None

    def _stream_read(self, offset: int, n: int) -> bytes:
        if offset < self._buf_start:
            raise ImageFileError(
                f"cannot go back to byte {offset} of {self.name}: the stream is not "
                "seekable (open the file by name or pass a seekable file object)"
            )
        end = self._buf_start + len(self._buf)
        if offset > end:  # skip forward
            self._buf, self._buf_start = b"", end
            while self._buf_start < offset:
                got = self._fobj.read(min(offset - self._buf_start, CHUNK))
                if not got:
                    return b""
                self._buf_start += len(got)
        self._buf = self._buf[offset - self._buf_start :]
        self._buf_start = offset
        if len(self._buf) < n:
            self._buf += _read_full(self._fobj, n - len(self._buf))
        return self._buf[:n]

    def size(self) -> int | None:
        """Bytes from the start position to the end, or None for a stream."""
        try:
            if self._fd is not None:
                return os.fstat(self._fd).st_size - self._base
            if not self.seekable:
                return None
            with self._lock:
                here = self._fobj.tell()
                end = self._fobj.seek(0, io.SEEK_END)
                self._fobj.seek(here)
                return end - self._base
        except OSError:
            return None


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


# -- codec adapters: one decompression step, in the source's terms ---------------------


class _GzipCodec:
    """zlib-style decompressors: bounded output, unconsumed input handed back."""

    name = "gzip"
    magics = (blocks.GZIP_MAGIC,)
    can_checkpoint = True  # zlib's decompressobj has copy(); ISA-L's has not

    def __init__(self) -> None:
        self.errors = backends.gzip_inflate_errors()

    @staticmethod
    def new(fast: bool) -> tuple[Any, bool]:
        if fast:
            d = backends.fast_gzip_decompressobj()
            if d is not None:
                return d, True
        import zlib

        return zlib.decompressobj(31), False

    @staticmethod
    def step(d: Any, data: memoryview, max_out: int) -> tuple[bytes, int]:
        out = d.decompress(data, max_out)
        left = d.unused_data if d.eof else d.unconsumed_tail
        return out, len(data) - len(left)


class _BoundedCodec:
    """bz2 / compression.zstd decompressors: bounded output, input kept inside."""

    can_checkpoint = False

    def __init__(self, name: str, magics: tuple[bytes, ...], factory: Any, errors: Any) -> None:
        self.name, self.magics, self._factory, self.errors = name, magics, factory, errors

    def new(self, fast: bool) -> tuple[Any, bool]:
        return self._factory(), False

    @staticmethod
    def step(d: Any, data: memoryview, max_out: int) -> tuple[bytes, int]:
        fed = 0
        if d.needs_input:
            fed = len(data)
            out = d.decompress(data, max_out)
        else:
            out = d.decompress(b"", max_out)
        # At the end, unused bytes may include input fed by earlier calls: a
        # negative count moves the position back (the source re-reads them).
        return out, fed - len(d.unused_data) if d.eof else fed


class _UnboundedCodec:
    """zstandard's decompressobj: no output bound, so input is fed in measured sips."""

    can_checkpoint = False

    def __init__(self, name: str, magics: tuple[bytes, ...], factory: Any, errors: Any) -> None:
        self.name, self.magics, self._factory, self.errors = name, magics, factory, errors
        self._ratio = 32768  # worst case (zstd RLE blocks) until data shows better

    def new(self, fast: bool) -> tuple[Any, bool]:
        return self._factory(), False

    def step(self, d: Any, data: memoryview, max_out: int) -> tuple[bytes, int]:
        limit = max(512, min(len(data), max_out // self._ratio))
        feed = data[:limit]
        out = d.decompress(feed)
        if feed:
            self._ratio = max(4, 4 * len(out) // len(feed))
        return out, len(feed) - len(d.unused_data) if d.eof else len(feed)


_ZSTD_MAGICS = (b"\x28\xb5\x2f\xfd", *(bytes([0x50 + i, 0x2A, 0x4D, 0x18]) for i in range(16)))


def codec_adapter(codec: str) -> Any:
    """The adapter for ``codec`` ('gzip', 'bz2', 'zstd'), using the current backends."""
    if codec == "gzip":
        return _GzipCodec()
    if codec == "bz2":
        bz2 = backends.bz2_module()
        errors = (OSError, EOFError, ValueError)
        return _BoundedCodec("bz2", (b"BZh",), bz2.BZ2Decompressor, errors)
    if codec == "zstd":
        impl, module = backends.zstd_module()
        if impl == "zstandard":
            return _UnboundedCodec(
                "zstd", _ZSTD_MAGICS, lambda: module.ZstdDecompressor().decompressobj(),
                (module.ZstdError, ValueError),
            )
        return _BoundedCodec("zstd", _ZSTD_MAGICS, module.ZstdDecompressor,
                             (module.ZstdError, ValueError, EOFError))
    raise ValueError(f"unknown compression {codec!r}")


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
        # the last decompressed chunks of a pass to the end: output offsets, chunks
        self._win_u: list[int] = []
        self._win: list[memoryview] = []

    # public -------------------------------------------------------------------------
    def readinto_at(self, offset: int, out: memoryview) -> int:
        with self._lock:
            if self._win and self._win_u[0] <= offset:
                return self._from_window(offset, out)
            st = self._choose(offset, len(out))
            self._skip(st, offset - st.u)
            got = 0
            while got < len(out) and st.u == offset + got:
                chunk = self._produce(st, len(out) - got)
                if not len(chunk):
                    break
                out[got : got + len(chunk)] = chunk
                got += len(chunk)
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
        """The cheapest state to reach ``offset`` from: current, checkpoint or fast restart."""
        cur = self._state
        with self._cp_lock:
            # the background indexer will be there sooner than a restart from 0
            while self._indexing and self._indexed_to < offset:
                self._indexed.wait()
            k = bisect.bisect_right(self._cp_u, offset) - 1
            cp_u = self._cp_u[k]
            cp_cin, saved = self._cps[k]
            can_index = self._indexer is None and not self._stopped

        def cost(u: int, fast: bool) -> float:
            return (offset - u + nbytes) / (2.0 if fast else 1.0)

        best = ("cp", cost(cp_u, False))
        if cur.u <= offset and cost(cur.u, cur.fast) <= best[1]:
            best = ("cur", cost(cur.u, cur.fast))
        index = False
        if self.codec == "gzip" and backends.has_fast_gzip():
            fast_cost = cost(self._start[0], True)
            index = (
                nbytes < FAST_READ_MIN and can_index and self._codec.can_checkpoint
                and self._access.seekable and offset - max(cp_u, cur.u) >= INDEX_AHEAD_MIN
                and backends.thread_count() > 1
            )
            if fast_cost < best[1] and (nbytes >= FAST_READ_MIN or index):
                best = ("fast", fast_cost)
            else:
                index = False
        if best[0] == "cur":
            return cur
        if best[0] == "fast":
            st = _State(None, self._start[1], self._start[0], fast=True)
        else:
            st = _State(None if saved is None else saved.copy(), cp_cin, cp_u)
        self._retire(cur)
        self._state = st
        if index:
            self._start_indexer(cp_u, cp_cin, saved)
        return st

    def _retire(self, st: _State) -> None:
        # A zlib state being abandoned becomes a checkpoint (no copy needed).
        if self._codec.can_checkpoint and st.d is not None and not st.fast:
            self._add_checkpoint(st.u, st.cin, st.d, CHECKPOINT_SPACING // 2)

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
    def _start_indexer(self, u: int, cin: int, saved: Any) -> None:
        """Build zlib checkpoints from ``u`` to the end on a thread of its own.

        A read far into a single stream restarts with ISA-L (about twice
        zlib's speed, but its state cannot be copied) while this thread
        inflates the same bytes with zlib, leaving checkpoints behind, so
        that later reads anywhere start near where they need to.
        """
        st = _State(None if saved is None else saved.copy(), cin, u)
        with self._cp_lock:
            self._indexing = True
            self._indexed_to = u
        self._indexer = threading.Thread(
            target=self._index, args=(st,), name="voxelio-gzip-index", daemon=True
        )
        self._indexer.start()

    def _index(self, st: _State) -> None:
        try:
            step = min(_SKIP_STEP, CHECKPOINT_SPACING)
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
            got = len(self._produce(st, min(n, _SKIP_STEP)))
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
            try:
                out, used = self._codec.step(st.d, st.inbuf, max_out)
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
        with self._cp_lock:
            k = bisect.bisect_right(self._cp_u, st.u)
            if st.u - self._cp_u[k - 1] >= CHECKPOINT_SPACING and (
                k == len(self._cp_u) or self._cp_u[k] - st.u >= CHECKPOINT_SPACING // 2
            ):
                self._cp_u.insert(k, st.u)
                self._cps.insert(k, (st.cin, st.d.copy()))
