"""Lazy array proxies: image data that stays on disk until asked for.

An :class:`ArrayProxy` knows where an array lives (a file name or file
object, the byte offset, shape, dtype with byte order, memory order) and how
to scale its stored values (``slope``, ``inter``). Nothing is read until the
data are asked for:

- ``np.asarray(proxy)`` reads everything and applies the scaling;
- ``proxy[idx]`` reads only the bytes the index needs;
- ``proxy.get_unscaled()`` gives the stored values.

Uncompressed files are memory-mapped when allowed (``mmap``); compressed
files are decompressed transparently through :mod:`voxelio.codecs`. Reads
from one proxy are safe from several threads at once.
"""

from __future__ import annotations

# _thread, not threading: the locks are the same, and importing threading costs
# every process about a millisecond it may never need
import _thread
import contextlib
import itertools
import math
import os
from collections.abc import Iterator, Sequence
from typing import Any, BinaryIO

import numpy as np

from . import codecs
from ._fileidentity import FileIdentity, changed_message, identify, open_regular
from .codecs.handoff import ReaderHandOff
from .errors import ImageDataError, ImageFileError
from .slicing import (
    IndexPlan,
    box_span,
    check_order,
    is_contiguous_box,
    is_fancy,
    layout_strides,
    plan_index,
    slowest_axis,
    split_sparse,
)

#: bytes converted per step when reading and scaling a contiguous run
CHUNK_BYTES = 8 * 1024 * 1024
#: a read (or a conversion) of at least this many bytes of a plain file is split
#: over the codec threads; the reads themselves are in voxelio._rangeread, imported
#: where a read needs them (a memory-mapped load reads nothing through it)
PARALLEL_MIN = 8 << 20
#: a strided read of the slowest axis is split into one read per pick when
#: reading through would fetch more than this many times the bytes needed
SPARSE_FACTOR = 2

_MMAP_MODES = {True: "c", "c": "c", "r": "r", "r+": "r+", False: None, None: None}

#: the largest byte position numpy and the operating system can address
MAX_ADDRESSABLE = 2**63 - 1

#: most decompressed bytes one compressed byte can stand for, per codec; a
#: header claiming more data than the file could hold is refused before any
#: allocation (deflate cannot exceed ~1032:1; the others get a generous cap)
MAX_EXPANSION = {None: 1, "gzip": 1100, "bz2": 100_000, "zstd": 100_000}


class ArrayProxy:
    """A stored array, read lazily.

    Parameters
    ----------
    file_like : str, os.PathLike or file-like
        Where the array lives. A file-like object is used as it is (and
        never closed); a name is opened when needed.
    spec : tuple or header
        ``(shape, dtype)`` plus optionally ``offset``, ``slope`` and
        ``inter``: the stored array's shape, its on-disk dtype (byte order
        included), the byte offset of its first element in the
        (decompressed) stream, and the scaling applied on read
        (``value = stored * slope + inter``). Or a header, whose
        ``get_data_shape()``, ``get_data_dtype()``, ``get_data_offset()``
        and ``get_slope_inter()`` give these values (read once: later
        changes to the header do not change the proxy).
    mmap : {True, False, 'c', 'r', 'r+'}, optional
        Memory-map uncompressed files (True means copy-on-write 'c').
    order : {'F', 'C'}, optional
        Memory order of the stored array; neuro-imaging formats use 'F'.
    keep_file_open : {None, True, False}, optional
        Keep one open file (and its decompression index) between reads;
        None keeps compressed files open and reopens plain ones each time.
    hand_off : ReaderHandOff, optional
        Where the loader left the reader it read the header with (see
        :func:`voxelio.openfiles.reading`): the first read takes it, when
        it reads this same unchanged file, instead of decompressing the file
        again. The proxy lets go of the hand-off after its first read; a
        reader never taken is closed with the hand-off.
    """

    def __init__(
        self,
        file_like: str | os.PathLike | BinaryIO,
        spec: Sequence[Any],
        *,
        mmap: bool | str = True,
        order: str = "F",
        keep_file_open: bool | None = None,
        hand_off: ReaderHandOff | None = None,
    ) -> None:
        if _is_header(spec):
            spec = _spec_from_header(spec)
        shape, dtype, offset, slope, inter = _unpack_spec(spec)
        if mmap not in _MMAP_MODES:
            raise ValueError(f"mmap must be one of True, False, 'c', 'r', 'r+'; not {mmap!r}")
        if keep_file_open not in (None, True, False):
            raise ValueError(f"keep_file_open must be None, True or False; not {keep_file_open!r}")
        if isinstance(file_like, os.PathLike):
            file_like = os.fspath(file_like)
        elif not isinstance(file_like, str):
            # here: a file read by name needs no stream wrapper
            from ._streams import SpooledStream, is_seekable

            if not is_seekable(file_like):
                file_like = SpooledStream(file_like)  # a pipe: keep what is read, to go back
        self._file_like = file_like
        self._shape = shape
        self._dtype = dtype
        self._offset = offset
        self._slope = slope
        self._inter = inter
        self._order = check_order(order)
        self._mmap_mode = _MMAP_MODES[mmap]
        self._keep_file_open = keep_file_open
        self._lock = _thread.RLock()
        self._compression: str | bool | None = False  # False: not detected yet
        self._kept: BinaryIO | None = None
        self._kept_stack: contextlib.ExitStack | None = None
        # the version of the file this proxy reads: a later save over the
        # name must not make it return another file's values
        self._identity: FileIdentity | None = None
        if isinstance(self.file_like, str):
            # the version whose header the loader read, when it says so (its
            # reader opened it as a regular file: no need to look again)
            self._identity = hand_off.identity_of(self.file_like) if hand_off else None
            if self._identity is None:
                with contextlib.suppress(FileNotFoundError):  # reported when data are read
                    self._identity = identify(self.file_like, "image data file")
        self._hand_off = hand_off

    @classmethod
    def from_holder(
        cls,
        holder: Any,
        shape: Sequence[int],
        dtype: Any,
        offset: int = 0,
        slope: float | None = None,
        inter: float | None = None,
        *,
        mmap: bool | str = True,
        order: str = "F",
        keep_file_open: bool | None = None,
        hand_off: ReaderHandOff | None = None,
    ) -> ArrayProxy:
        """A proxy on the file a :class:`~voxelio.filemaps.FileHolder` points at.

        ``offset`` counts from the start of the image in the holder: for a
        file object, its ``pos`` is added. A ``slope``/``inter`` of None
        means no scaling.
        """
        if holder.fileobj is not None:
            from ._streams import make_seekable

            make_seekable(holder)  # the loader's header read may have wrapped it already
        start = offset + (holder.pos if holder.fileobj is not None else 0)
        spec = (tuple(shape), dtype, start, slope, inter)
        return cls(
            holder.file_like, spec, mmap=mmap, order=order, keep_file_open=keep_file_open,
            hand_off=hand_off,
        )

    # -- read-only description (a proxy may be shared by several images) ------------
    @property
    def is_proxy(self) -> bool:
        """Always True: the data are read lazily."""
        return True

    @property
    def file_like(self) -> str | BinaryIO:
        """The file name or file object the array is read from."""
        return self._file_like

    @property
    def compression(self) -> str | None:
        """The codec of the named file ('gzip', 'bz2', 'zstd'), None if uncompressed.

        ``'auto'`` for a file object (recognised when read). Known without
        opening the file again while the loader's reader waits to be taken;
        otherwise the file's first bytes are read once.

        Raises
        ------
        ImageFileError
            If the named file cannot be opened.
        """
        return self._detect_compression()

    @property
    def offset(self) -> int:
        """Byte offset of the first stored element in the (decompressed) stream."""
        return self._offset

    @property
    def slope(self) -> float:
        """Scale factor applied on read."""
        return self._slope

    @property
    def inter(self) -> float:
        """Intercept added on read."""
        return self._inter

    @property
    def order(self) -> str:
        """Memory order of the stored array: 'F' or 'C'."""
        return self._order

    # -- array-like attributes -------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    @property
    def ndim(self) -> int:
        return len(self._shape)

    @property
    def dtype(self) -> np.dtype:
        """The stored (on-disk) dtype."""
        return self._dtype

    @property
    def size(self) -> int:
        # Python integers: a product of header lengths may not fit 64 bits
        return math.prod(self._shape)

    @property
    def nbytes(self) -> int:
        """Bytes the stored array occupies (decompressed)."""
        return self.size * self._dtype.itemsize

    @property
    def is_scaled(self) -> bool:
        return not (self.slope == 1 and self.inter == 0)

    @property
    def scaled_dtype(self) -> np.dtype:
        """The dtype ``np.asarray(proxy)`` returns."""
        return scaled_dtype(self._dtype, self.slope, self.inter)

    def __len__(self) -> int:
        if not self._shape:
            raise TypeError("len() of a 0-d proxy")
        return self._shape[0]

    def __repr__(self) -> str:
        where = (
            self.file_like if isinstance(self.file_like, str) else type(self.file_like).__name__
        )
        return (
            f"<ArrayProxy {where!s} shape={self._shape} dtype={self._dtype} "
            f"offset={self.offset} slope={self.slope} inter={self.inter}>"
        )

    # -- reading -------------------------------------------------------------------
    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        # scaled values are computed in their own (float) type, then converted:
        # scaling straight into an integer type would fail or wrap
        working = dtype
        if (
            dtype is not None
            and self.is_scaled
            and not issubclass(np.dtype(dtype).type, np.inexact)
        ):
            working = None
        # np.asanyarray: scaling a 0-d array gives a numpy scalar, which numpy
        # refuses from __array__ ("object __array__ method not producing an
        # array"); asanyarray (not asarray) keeps a memory map a memory map
        arr = np.asanyarray(self._read(None, working))
        if dtype is not None and arr.dtype != np.dtype(dtype):
            arr = arr.astype(dtype)
        return arr

    def get_unscaled(self) -> np.ndarray:
        """The stored values, without scaling (memory-mapped when possible)."""
        return self._read(None, None, scale=False)

    def get_scaled(self, dtype: Any = None) -> np.ndarray:
        """The scaled values, computed in ``dtype`` if given."""
        return np.asarray(self, dtype=dtype)

    def __getitem__(self, index: Any) -> np.ndarray:
        return self._read(index, None)

    def read(self, index: Any = (), dtype: Any = None, scale: bool = True) -> np.ndarray:
        """Read ``self[index]``, scaled into ``dtype`` (or unscaled)."""
        return self._read(index, dtype, scale=scale)

    def _read(self, index: Any, dtype: Any, scale: bool = True) -> np.ndarray:
        out_dtype = self._output_dtype(dtype, scale)
        slope, inter = (self.slope, self.inter) if scale else (1.0, 0.0)
        if index is not None and is_fancy(index):
            full = self._read(None, dtype, scale)
            try:
                return np.asarray(full[index])
            except IndexError as err:
                raise IndexError(
                    f"cannot index {self.shape} proxy with {index!r}: {err}"
                ) from None
        plan = plan_index(() if index is None else index, self._shape)
        if self.size == 0 or 0 in plan.counts:
            empty = np.empty(plan.counts, dtype=out_dtype, order=self.order)
            return plan.finish(empty)
        self._check_unchanged()
        mm = self._memmap()
        if mm is not None:
            box = mm[tuple(slice(p.start, p.last + 1, p.step) for p in plan.picks)]
            if (
                plan.is_full(self._shape)
                and out_dtype == self._dtype
                and not (slope != 1 or inter)
            ):
                return box
            return plan.finish(_converted(box, out_dtype, slope, inter))
        self._check_plausible_size()
        with self._open() as fobj:
            box = self._read_box(fobj, plan, out_dtype, slope, inter)
        # a file replaced or rewritten while it was read may have given
        # bytes of its new version: refuse them rather than return them
        self._check_unchanged()
        return plan.finish(box)

    def _check_unchanged(self) -> None:
        """Raise ImageFileError if the named file is no longer the one loaded.

        A file kept open (compressed files by default) is read through its
        open descriptor, so a file *replaced* under the name still gives
        the values it had; any other change is refused.
        """
        if not isinstance(self.file_like, str):
            return
        try:
            now: FileIdentity | None = identify(self.file_like, "image data file")
        except FileNotFoundError:
            now = None
        self._refuse_if_changed(now)

    def _refuse_if_changed(self, now: FileIdentity | None) -> None:
        assert isinstance(self.file_like, str)
        then = self._identity
        if then is None:
            self._identity = now
            return
        if now == then:
            return
        if self._mmap_mode == "r+" and now is not None and now.same_inode(then):
            return  # writes through this proxy's own writable map change the file
        if self._kept is not None and (now is None or not now.same_inode(then)):
            return  # the open descriptor still reads the version loaded
        raise ImageFileError(changed_message(self.file_like, then, now))

    def _refuse_missing_or_short(self, what: str = "image file") -> None:
        """Raise ImageFileError now if the named file cannot hold the data (used by loads).

        Costs no open and no read in the usual case: the file's size is in
        the identity noted when the proxy was made. A file shorter than the
        data may be compressed: the loader's reader or the name tells the
        codec (a short plain-named file is opened once to look); its
        decompressed size is unknown without inflating, so only the largest
        expansion the codec allows is checked. A seekable file object is
        checked the same way (:meth:`_refuse_short_object`); a stream spooled
        from a pipe is not (its reads say what is missing).
        """
        if not isinstance(self.file_like, str):
            self._refuse_short_object()
            return
        if self._identity is None:
            raise ImageFileError(
                _missing_data_file_message(what, self.file_like, self.nbytes, self._dtype,
                                          self._shape)
            )
        needed = self.offset + self.nbytes
        if self._identity.size >= needed:
            return
        codec = self._hand_off.codec_of(self.file_like) if self._hand_off else None
        if codec is None:
            codec = codecs.compression_from_name(self.file_like) or self._detect_compression()
        if codec is None:
            raise ImageFileError(
                f"{self.file_like!r} is truncated: the header describes {self.nbytes} bytes of "
                f"{self._dtype} data {self._shape} from byte {self.offset}, but the file has "
                f"only {self._identity.size} bytes"
            )
        self._check_plausible_size(codec)

    def _refuse_short_object(self) -> None:
        """Raise ImageFileError now if a file object plainly cannot hold the data.

        Checked only when it costs nothing in the usual case: a seekable
        object (its end is a seek away; a stream spooled from a pipe is not
        read ahead for it) long enough for the data is not looked at. A
        shorter one is read at its start: uncompressed, it is truncated;
        compressed, the codec's largest expansion is the bound.
        """
        from ._rangeread import stored_size
        from ._streams import SpooledStream, is_seekable

        fobj = self.file_like
        if isinstance(fobj, SpooledStream) or not is_seekable(fobj):
            return
        available = stored_size(fobj)
        needed = self.offset + self.nbytes
        if available is None or needed <= available:
            return
        try:
            here = fobj.tell()
            fobj.seek(0)  # a compressed object is read from 0 (as the kept reader does)
            head = fobj.read(4)
            fobj.seek(here)
        except (OSError, ValueError):
            return  # its reads will say what is wrong
        codec = codecs.detect_compression(bytes(head or b""))
        if codec is None:
            raise ImageFileError(
                f"{self._describe()} is truncated: the header describes {self.nbytes} bytes of "
                f"{self._dtype} data {self._shape} from byte {self.offset}, but it has only "
                f"{available} bytes"
            )
        self._check_plausible_size(codec)

    def _check_plausible_size(self, codec: str | bool | None = False) -> None:
        """Refuse reads whose size the stored file cannot possibly hold.

        ``codec`` is the file's, when known (False: detect it).
        """
        # a named file's size is in its identity, checked unchanged just before
        identity = self._identity if isinstance(self.file_like, str) else None
        if identity is not None:
            available = identity.size
        else:
            from ._rangeread import stored_size

            available = stored_size(self.file_like)
        needed = self.offset + self.nbytes
        if available is None or needed <= available:
            return  # no codec shrinks data: a file this long holds it either way
        if codec is False:
            codec = self._detect_compression()
        # a file object's codec is unknown until opened: use the most generous cap
        limit = available * MAX_EXPANSION.get(codec, max(MAX_EXPANSION.values()))
        if needed > limit:
            what = {None: "the file", "auto": "the stream (even compressed)"}.get(
                codec, f"the {codec}-compressed file"
            )
            raise ImageFileError(
                f"{self._describe()} claims {needed} bytes of image data, more than {what} "
                f"of {available} bytes can hold: the header is corrupt or the file is truncated"
            )

    def _output_dtype(self, dtype: Any, scale: bool) -> np.dtype:
        if dtype is not None:
            return np.dtype(dtype)
        if scale and self.is_scaled:
            return self.scaled_dtype
        return self._dtype.newbyteorder("=") if self._dtype.byteorder in "<>" else self._dtype

    def _read_box(
        self, fobj: BinaryIO, plan: IndexPlan, out_dtype: np.dtype, slope: float, inter: float
    ) -> np.ndarray:
        from ._rangeread import read_exact, take_range

        itemsize = self._dtype.itemsize
        strides = layout_strides(self._shape, itemsize, self.order)
        contiguous = is_contiguous_box(plan.picks, self._shape, self.order)
        if contiguous:
            start, length = box_span(plan.picks, strides, itemsize)
            raw = take_range(fobj, self.offset + start, length, itemsize, self._describe())
            if raw is not None:
                return self._from_taken(raw.view(self._dtype), plan.counts, out_dtype, slope,
                                        inter)
        out = np.empty(plan.counts, dtype=out_dtype, order=self.order)
        if contiguous:
            flat = out.reshape(-1, order=self.order)
            self._read_run(fobj, self.offset + start, flat, slope, inter)
            return out
        slow = slowest_axis(self.ndim, self.order)
        for target, picks in split_sparse(plan.picks, slow, strides, itemsize, SPARSE_FACTOR):
            start, length = box_span(picks, strides, itemsize)
            raw = read_exact(fobj, self.offset + start, length, self._describe())
            box_strides = tuple(p.step * s for p, s in zip(picks, strides, strict=False))
            box = np.ndarray(
                tuple(p.count for p in picks), dtype=self._dtype, buffer=raw, strides=box_strides
            )
            out_part = out[target]
            _scale_into(box, out_dtype, slope, inter, out=out_part)
        return out

    def _from_taken(
        self, raw: np.ndarray, counts: tuple[int, ...], out_dtype: np.dtype, slope: float,
        inter: float,
    ) -> np.ndarray:
        """The values of ``raw``, stored values a compressed reader handed over.

        A reader that inflated the whole stream into one buffer (a load that
        read a footer after the data) gives that buffer itself: it becomes
        the result when no conversion is needed (no second copy of the data),
        else it is converted in parts on the shared threads and let go.
        """
        stored = self._dtype
        if out_dtype == stored.newbyteorder("=") and slope == 1 and not inter:
            if stored.byteorder not in "=|" and out_dtype != stored:
                raw = raw.byteswap(inplace=True).view(out_dtype)
            return raw.reshape(counts, order=self.order)
        out = np.empty(counts, dtype=out_dtype, order=self.order)
        flat = out.reshape(-1, order=self.order)
        per_part = max(1, CHUNK_BYTES // 4 // stored.itemsize)
        executor = codecs.thread_pool() if raw.size > per_part else None

        def part(lo: int) -> None:
            hi = min(lo + per_part, raw.size)
            _scale_into(raw[lo:hi], out_dtype, slope, inter, out=flat[lo:hi])

        _run_parts(executor, part, ((lo,) for lo in range(0, raw.size, per_part)))
        return out

    def _read_run(
        self, fobj: BinaryIO, start: int, flat_out: np.ndarray, slope: float, inter: float
    ) -> None:
        """Read a contiguous run of stored values into ``flat_out``, scaling as it goes."""
        from ._rangeread import readinto_exact

        stored = self._dtype
        if flat_out.dtype == stored.newbyteorder("=") and slope == 1 and inter == 0:
            raw = flat_out.view(np.uint8)
            if not self._read_plain_in_parts(fobj, start, raw):
                readinto_exact(fobj, start, raw, self._describe())
            if stored.byteorder not in "=|" and stored.newbyteorder("=") != stored:
                flat_out.byteswap(inplace=True)
            return
        per_chunk = max(1, CHUNK_BYTES // stored.itemsize)
        executor = codecs.thread_pool() if flat_out.size > per_chunk else None
        boundaries = getattr(fobj, "boundaries", None)
        if executor is not None and boundaries is not None:
            cuts = boundaries(start, flat_out.size * stored.itemsize)
            if cuts:
                self._read_run_split(fobj, executor, start, cuts, flat_out, slope, inter)
                return
        from ._pipeline import read_converting

        def convert(values: np.ndarray, part: np.ndarray) -> None:
            _scale_into(values, flat_out.dtype, slope, inter, out=part)

        read_converting(fobj, start, flat_out, stored, convert, executor, self._describe(),
                        serial_bytes=CHUNK_BYTES)

    def _read_plain_in_parts(self, fobj: BinaryIO, start: int, raw: np.ndarray) -> bool:
        """Read a large run of an uncompressed named file on every codec thread; False if not.

        Only a regular file voxelio opened by name: its offsets are the
        file's own (a caller's file object may be anything).
        """
        if (
            raw.nbytes < PARALLEL_MIN
            or self._compression is not None
            or not isinstance(self.file_like, str)
            or not hasattr(os, "preadv")
        ):
            return False
        from ._rangeread import readinto_parallel
        from .codecs.backends import thread_count, thread_pool

        executor = thread_pool()
        if executor is None:
            return False
        readinto_parallel(fobj.fileno(), start, raw, self._describe(), executor, thread_count())
        return True

    def _read_run_split(
        self, fobj: Any, executor: Any, start: int, cuts: list[int], flat_out: np.ndarray,
        slope: float, inter: float,
    ) -> None:
        """Read and scale a run in parts that workers decompress and convert on their own.

        Parts end where independently compressed parts of the file do (and on
        whole values), so no part is decompressed twice and each part is
        converted while its bytes are still in cache.
        """
        from ._rangeread import readinto_exact_range

        stored = self._dtype
        size = stored.itemsize
        end = start + flat_out.size * size
        # group the cuts into parts of about CHUNK_BYTES // 4, on whole values
        edges = [start]
        for cut in cuts:
            if (cut - start) % size == 0 and cut - edges[-1] >= CHUNK_BYTES // 4:
                edges.append(cut)
        edges.append(end)
        where = self._describe()

        def part(lo: int, hi: int) -> None:
            buf = np.empty((hi - lo) // size, dtype=stored)
            readinto_exact_range(fobj, lo, buf.view(np.uint8), where)
            i0 = (lo - start) // size
            _scale_into(buf, flat_out.dtype, slope, inter, out=flat_out[i0 : i0 + buf.size])

        _run_parts(executor, part, itertools.pairwise(edges))

    def _describe(self) -> str:
        if isinstance(self.file_like, str):
            return repr(self.file_like)
        return f"the {type(self.file_like).__name__} object"

    # -- file handling --------------------------------------------------------------
    def _detect_compression(self) -> str | None:
        if self._compression is False:
            held = self._hand_off.codec_of(self.file_like) if self._hand_off else None
            if held is not None and isinstance(self.file_like, str):
                self._compression = held  # the loader's reader waits: no need to open
            elif isinstance(self.file_like, str):
                self._open_uncompressed().close()
            else:
                self._compression = "auto"
        return self._compression  # type: ignore[return-value]

    def _codec_unknown(self) -> bool:
        """True while the named file's codec is known neither here nor to the loader."""
        if self._compression is not False or not isinstance(self.file_like, str):
            return False
        return self._hand_off is None or self._hand_off.codec_of(self.file_like) is None

    def _open_uncompressed(self) -> BinaryIO:
        """Open the named file and learn its codec from its first bytes; open if it has none.

        The first read of a plain file then opens it once: the bytes looked
        at stay in the file's buffer. A compressed file comes back closed
        (it is read through its codec, opened another way).
        """
        assert isinstance(self.file_like, str)
        try:
            fobj = open_regular(self.file_like)
        except FileNotFoundError:
            raise ImageFileError(f"image data file {self.file_like!r} is missing") from None
        except OSError as err:
            raise ImageFileError(f"cannot open {self.file_like!r}: {err}") from None
        try:
            self._compression = codecs.detect_compression(fobj.peek(8)[:8])
        except OSError as err:
            fobj.close()
            raise ImageFileError(f"cannot read {self.file_like!r}: {err}") from None
        except BaseException:
            fobj.close()
            raise
        if self._compression is not None:
            fobj.close()
        return fobj

    def _memmap(self) -> np.ndarray | None:
        if self._mmap_mode is None or not isinstance(self.file_like, str):
            return None
        writable = self._mmap_mode == "r+"
        # the open that learns a plain file's codec is the one mapped
        fobj = self._open_uncompressed() if self._codec_unknown() and not writable else None
        if self._detect_compression() is not None:
            return None
        needed = self.offset + self.nbytes
        # map the descriptor whose identity is checked, not whatever the name
        # points at a moment later
        if fobj is None and writable:
            fobj = open(self.file_like, "r+b")  # noqa: SIM115 (closed by the with below)
        elif fobj is None:
            fobj = open_regular(self.file_like)
        with fobj:
            st = os.fstat(fobj.fileno())
            self._refuse_if_changed(FileIdentity.of_stat(st))
            if st.st_size < needed:
                raise ImageFileError(
                    f"{self.file_like!r} is too short: the image needs bytes up to {needed}, "
                    f"the file has {st.st_size}"
                )
            return np.memmap(
                fobj,
                dtype=self._dtype,
                mode=self._mmap_mode,
                offset=self.offset,
                shape=self._shape,
                order=self.order,
            )

    @contextlib.contextmanager
    def _open(self) -> Iterator[BinaryIO]:
        if self._codec_unknown() and self._keep_file_open is not True:
            # usually a plain file: the open that tells is the one read through
            fobj = self._open_uncompressed()
            if not fobj.closed:
                self._take_hand_off()  # (it holds no reader of this file)
                with fobj:
                    yield fobj
                return
        compression = self._detect_compression()
        keep = self._keep_file_open
        if keep is None:
            keep = compression is not None and compression != "auto"
        if not isinstance(self.file_like, str):
            keep = True
        if not keep:
            with codecs.opened(
                self.file_like, "rb", compression=compression or None, reuse=self._take_hand_off()
            ) as fobj:
                yield fobj
            return
        with self._lock:
            if self._kept is None:
                if not isinstance(self.file_like, str):
                    # a shared file object may sit anywhere: its stream starts at 0
                    self.file_like.seek(0)
                stack = contextlib.ExitStack()
                self._kept = stack.enter_context(
                    codecs.opened(
                        self.file_like, "rb", compression=compression or None,
                        reuse=self._take_hand_off(),
                    )
                )
                self._kept_stack = stack
            try:
                yield self._kept
            finally:
                # bytes a reader kept decompressed (taken over from the load) served
                # this read; holding them as long as the image lives would cost memory
                release = getattr(self._kept, "release_cache", None)
                if release is not None:
                    release()

    def _take_hand_off(self) -> ReaderHandOff | bool:
        """The loader's hand-off for this open (first open only), else False."""
        hand_off, self._hand_off = self._hand_off, None
        return hand_off if hand_off is not None and isinstance(self.file_like, str) else False

    def close(self) -> None:
        """Close a file kept open between reads (it is reopened when needed)."""
        with self._lock:
            if self._hand_off is not None:
                self._hand_off.close()
                self._hand_off = None
            if self._kept_stack is not None:
                self._kept_stack.close()
            self._kept = None
            self._kept_stack = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.update(_lock=None, _kept=None, _kept_stack=None, _hand_off=None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = _thread.RLock()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()


def _missing_data_file_message(
    what: str, name: str, nbytes: int, dtype: Any, shape: Sequence[int]
) -> str:
    """What a load says when the file that should hold the data does not exist."""
    return (
        f"{what} {name!r} does not exist: the header describes {nbytes} bytes of "
        f"{np.dtype(dtype)} data {tuple(shape)} stored there (put that file beside the header)"
    )


def is_proxy(obj: Any) -> bool:
    """True if ``obj`` reads its data lazily (has a true ``is_proxy`` attribute)."""
    try:
        return obj.is_proxy is True
    except AttributeError:
        return False


def scaled_dtype(stored: np.dtype, slope: float, inter: float) -> np.dtype:
    """The dtype scaled values come in: the stored one if unscaled, else float64/complex128."""
    if slope == 1 and inter == 0:
        return stored.newbyteorder("=") if stored.byteorder in "<>" else stored
    if stored.kind == "c":
        return np.dtype(np.complex128)
    return np.dtype(np.float64)


def read_array(
    fileobj: BinaryIO, dtype: Any, shape: Sequence[int], offset: int = 0, order: str = "F"
) -> np.ndarray:
    """Read a whole stored array from ``fileobj`` (eagerly, into memory)."""
    proxy = ArrayProxy(fileobj, (tuple(shape), np.dtype(dtype), offset), mmap=False, order=order)
    return proxy.get_unscaled()


# -- helpers -------------------------------------------------------------------------------
def _is_header(spec: Any) -> bool:
    return all(
        hasattr(spec, name)
        for name in ("get_data_shape", "get_data_dtype", "get_data_offset", "get_slope_inter")
    )


def _spec_from_header(header: Any) -> tuple[Any, ...]:
    slope, inter = header.get_slope_inter()
    return (
        tuple(header.get_data_shape()),
        header.get_data_dtype(),
        header.get_data_offset(),
        1.0 if slope is None else slope,
        0.0 if inter is None else inter,
    )


def _unpack_spec(spec: Sequence[Any]) -> tuple[tuple[int, ...], np.dtype, int, float, float]:
    if len(spec) < 2 or len(spec) > 5:
        raise ValueError("spec must be (shape, dtype[, offset[, slope[, inter]]])")
    shape = tuple(int(n) for n in spec[0])
    if any(n < 0 for n in shape):
        raise ImageDataError(f"negative length in shape {shape}")
    dtype = np.dtype(spec[1])
    offset = int(spec[2]) if len(spec) > 2 else 0
    if offset < 0:
        raise ImageDataError(f"negative data offset {offset}")
    # checked in Python integers, before numpy ever multiplies these lengths
    end = offset + math.prod(shape) * dtype.itemsize
    if end > MAX_ADDRESSABLE:
        raise ImageFileError(
            f"shape {shape} of {dtype} data from byte {offset} needs {end} bytes, more than "
            f"any file or array can hold (2**63 - 1): the header is corrupt"
        )
    # numpy refuses even an empty array whose other lengths multiply past that
    if 0 in shape and math.prod(n for n in shape if n) * dtype.itemsize > MAX_ADDRESSABLE:
        raise ImageFileError(
            f"shape {shape} of {dtype} data: the lengths besides the zero ones multiply to "
            f"more than any array can index (2**63 - 1 bytes): the header is corrupt"
        )
    slope = 1.0 if len(spec) < 4 or spec[3] is None else float(spec[3])
    inter = 0.0 if len(spec) < 5 or spec[4] is None else float(spec[4])
    return shape, dtype, offset, slope, inter


def _run_parts(executor: Any, func: Any, calls: Any) -> None:
    """``func(*args)`` for each ``args``: here when there is no executor, else on it.

    Small reads have no executor; they do not import the codec backends.
    """
    if executor is None:
        for args in calls:
            func(*args)
        return
    from .codecs.backends import run_all

    run_all(executor, func, calls)


def _converted(box: np.ndarray, dtype: np.dtype, slope: float, inter: float) -> np.ndarray:
    """``box`` scaled into a new array of ``dtype``; a large one in parts on the codec threads.

    ``box`` is a memory map's view: converting it reads the file's pages
    (page cache hits) and writes new memory, which every core can do at once
    (a full float64 read of a 32 MiB int16 file: about 0.6 of the time on 2
    cores).
    """
    contiguous = box.flags.f_contiguous or box.flags.c_contiguous
    executor = None
    if box.nbytes >= PARALLEL_MIN and contiguous:
        from .codecs.backends import thread_pool

        executor = thread_pool()
    if executor is None:
        return _scale_into(box, dtype, slope, inter)
    order = "F" if box.flags.f_contiguous else "C"
    out = np.empty(box.shape, dtype=dtype, order=order)
    src, dst = box.reshape(-1, order=order), out.reshape(-1, order=order)
    per_part = max(1, CHUNK_BYTES // 4 // box.dtype.itemsize)

    def part(lo: int) -> None:
        hi = min(lo + per_part, src.size)
        _scale_into(src[lo:hi], dtype, slope, inter, out=dst[lo:hi])

    _run_parts(executor, part, ((lo,) for lo in range(0, src.size, per_part)))
    return out


def _scale_into(
    raw: np.ndarray, dtype: np.dtype, slope: float, inter: float, out: np.ndarray | None = None
) -> np.ndarray:
    """``raw * slope + inter`` computed in ``dtype`` (into ``out`` if given)."""
    if out is None:
        out = np.empty(raw.shape, dtype=dtype, order="F" if raw.flags.f_contiguous else "C")
    if raw.dtype.fields is not None or out.dtype.fields is not None:
        out[...] = raw
        return out
    if (slope != 1 or inter != 0) and _narrower_than_double(out.dtype):
        _scale_via_double(raw, out, slope, inter)
        return out
    np.copyto(out, raw, casting="unsafe")
    if slope != 1:
        out *= slope
    if inter != 0:
        out += inter
    return out


#: elements converted per step when scaling into a narrow float through float64
_DOUBLE_STEP = 1 << 16


def _narrower_than_double(dtype: np.dtype) -> bool:
    return dtype.kind in "fc" and dtype.itemsize < (8 if dtype.kind == "f" else 16)


def _scale_via_double(raw: np.ndarray, out: np.ndarray, slope: float, inter: float) -> None:
    """``out[...] = raw * slope + inter`` rounded once, from the float64 result.

    Scaling in float32 would round twice (the stored value, then the product):
    about 1% of voxels would differ from ``get_fdata().astype(np.float32)``.
    The float64 values are made a small block at a time, so the extra
    memory stays bounded (a few hundred KiB) whatever the array size.
    """
    wide = np.complex128 if out.dtype.kind == "c" else np.float64
    order = "F" if out.flags.f_contiguous else "C"
    flag = "F_CONTIGUOUS" if order == "F" else "C_CONTIGUOUS"
    if not (out.flags[flag] and raw.flags[flag]):
        # a strided box (a memory-mapped slice): one pass through a float64 copy
        tmp = raw.astype(wide)
        tmp *= slope
        tmp += inter
        np.copyto(out, tmp, casting="unsafe")
        return
    flat_in, flat_out = raw.ravel(order), out.ravel(order)  # views: both contiguous
    buf = np.empty(min(_DOUBLE_STEP, flat_in.size), dtype=wide)
    for start in range(0, flat_in.size, _DOUBLE_STEP):
        part = buf[: min(_DOUBLE_STEP, flat_in.size - start)]
        np.copyto(part, flat_in[start : start + part.size], casting="unsafe")
        part *= slope
        part += inter
        np.copyto(flat_out[start : start + part.size], part, casting="unsafe")
