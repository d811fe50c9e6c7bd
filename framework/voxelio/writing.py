"""Writing arrays: type conversion, integer scaling, safe file replacement.

Rules (they hold for every format):

- Values are never clipped silently. If a value cannot be represented in
  the on-disk type (even after the scaling the format can store), writing
  raises :class:`~voxelio.errors.WriterError` naming the value range.
- Integer output from float data: values are rounded to the nearest stored
  integer. NaN is stored as the integer that reads back closest to 0 (0
  when there is no scaling); +/-inf cannot be stored and raises.
- Float output narrower than the data (float64 -> float32): finite values
  beyond the output's range raise; NaN and inf are kept.
- Complex data cannot be written to a real type (the imaginary part would
  be lost): raises.
- Files are written aside and moved over the target only when complete
  (:func:`safe_replace`), so a failed save leaves the old file untouched.
"""

from __future__ import annotations

import collections
import contextlib
import contextvars
import functools
import itertools
import math
import os
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import numpy as np

from .errors import WriterError

CHUNK_ELEMENTS = 1 << 20

# how a message asks for another stored dtype, in the caller's words: a
# program calls save(dtype=...), the command line has --dtype (voxelio.cli
# sets its own while it converts)
_CHOOSE_DTYPE: contextvars.ContextVar[str] = contextvars.ContextVar(
    "voxelio_choose_dtype", default="save(..., dtype='{dtype}')"
)


def _choose_dtype_words(dtype: str) -> str:
    """How to ask for ``dtype`` on save, as the caller would (``save(..., dtype='float32')``)."""
    return _CHOOSE_DTYPE.get().format(dtype=dtype)


# -- scaling choice ------------------------------------------------------------------
def finite_range(data: np.ndarray) -> tuple[float, float, bool, bool]:
    """(min, max) of the finite values, and whether NaN / inf occur."""
    arr = np.asarray(data)
    if arr.size == 0 or arr.dtype.kind in "biu":
        if arr.size == 0:
            return 0.0, 0.0, False, False
        return float(arr.min()), float(arr.max()), False, False
    finite = np.isfinite(arr)
    has_nan = bool(np.isnan(arr).any())
    has_inf = bool(np.isinf(arr).any())
    if not finite.any():
        return 0.0, 0.0, has_nan, has_inf
    if finite.all():
        return float(arr.min()), float(arr.max()), False, False
    vals = arr[finite]
    return float(vals.min()), float(vals.max()), has_nan, has_inf


def choose_scaling(
    data: np.ndarray,
    out_dtype: Any,
    can_slope: bool = True,
    can_inter: bool = True,
    scale_dtype: Any = np.float32,
) -> tuple[float, float]:
    """Slope and intercept that store ``data`` in ``out_dtype`` with least loss.

    Returns ``(1.0, 0.0)`` whenever the values fit exactly (integers in
    range, or any values to a float type). Otherwise, for integer output,
    the slope (and intercept, if the format can store one) spread the data
    range over the whole integer range. ``scale_dtype`` is the precision the
    format stores the factors in; the factors returned are exactly
    representable in it.

    Raises
    ------
    WriterError
        If the data cannot be stored even with the scaling allowed.
    """
    out = np.dtype(out_dtype)
    arr = np.asarray(data)
    _check_kinds(arr.dtype, out)
    if out.kind not in "iu" or arr.dtype.fields is not None:
        return 1.0, 0.0
    if arr.dtype.kind in "biu" and np.can_cast(arr.dtype, out, "safe"):
        return 1.0, 0.0  # every value fits: no need to look at them
    mn, mx, _, has_inf = finite_range(arr)
    if has_inf:
        raise WriterError(f"data contain infinite values, which {out} cannot store")
    info = np.iinfo(out)
    integral = arr.dtype.kind in "biu" or _all_integral(arr)
    if integral and info.min <= mn and mx <= info.max:
        return 1.0, 0.0
    if not can_slope:
        raise WriterError(_no_fit_message(mn, mx, out, "this format cannot store scaling"))
    sdt = np.dtype(scale_dtype)
    if can_inter:
        if mx == mn:
            slope, inter = 1.0, mn
        else:
            slope = (mx - mn) / (float(info.max) - float(info.min))
            inter = mn - float(info.min) * slope
    else:
        if mn < 0 and info.min == 0:
            raise WriterError(_no_fit_message(mn, mx, out, "negative values need an intercept"))
        slope = max(mx / float(info.max), mn / float(info.min) if info.min else 0.0)
        inter = 0.0
        if slope == 0:
            slope = 1.0
    slope, inter = _representable(slope, inter, mn, mx, info, sdt)
    return slope, inter


def _representable(slope, inter, mn, mx, info, sdt) -> tuple[float, float]:
    """Round factors to the storage precision, widening the slope until the range fits."""
    fi = np.finfo(sdt)
    inter = float(sdt.type(inter))
    slope = float(sdt.type(slope))
    if slope == 0:
        # a range narrower than the storage precision's smallest step (values of
        # about 1e-45 in float32): the smallest factor it can store is the finest
        slope = float(fi.smallest_subnormal)
    for _ in range(64):
        if not np.isfinite(slope):
            break
        lo = (mn - inter) / slope
        hi = (mx - inter) / slope
        if np.round(lo) >= info.min and np.round(hi) <= info.max:
            break
        # at least one step of the storage type: near its smallest values a
        # relative widening rounds back to the same number
        slope = float(max(sdt.type(slope * (1 + 4 * fi.eps)),
                          np.nextafter(sdt.type(slope), sdt.type(np.inf))))
    if not np.isfinite(slope) or slope == 0:
        raise WriterError(f"cannot find a scale factor for the range [{mn}, {mx}]")
    return slope, inter


def _all_integral(arr: np.ndarray) -> bool:
    if arr.dtype.kind not in "f":
        return False
    finite = arr[np.isfinite(arr)] if not np.isfinite(arr).all() else arr
    return bool(np.all(np.mod(finite, 1) == 0))


def _check_kinds(src: np.dtype, out: np.dtype) -> None:
    if src.fields is not None or out.fields is not None:
        if src.fields is None or out.fields is None or src.names != out.names:
            raise WriterError(f"cannot write {src} data as {out}")
        return
    if src.kind == "c" and out.kind != "c":
        raise WriterError(f"cannot write complex data as {out}: the imaginary part would be lost")
    if src.kind not in "biufc":
        raise WriterError(f"cannot write data of type {src}")


def _no_fit_message(mn: float, mx: float, out: np.dtype, why: str) -> str:
    info = np.iinfo(out)
    if info.min <= mn and mx <= info.max:
        # the range fits: it is the fractions an integer type cannot hold
        return (
            f"the data have values that are not whole numbers (range [{mn:g}, {mx:g}]), "
            f"which {out.name} can hold only with a scale factor, and {why}; "
            f"choose a floating-point dtype (e.g. {_choose_dtype_words('float32')})"
        )
    return (
        f"data range [{mn:g}, {mx:g}] does not fit {out.name} ([{info.min}, {info.max}]) "
        f"and {why}; choose a wider dtype (e.g. {_choose_dtype_words('float32')})"
    )


# -- conversion and writing ------------------------------------------------------------
def to_stored(
    chunk: np.ndarray, out_dtype: np.dtype, slope: float = 1.0, inter: float = 0.0
) -> np.ndarray:
    """Convert values to stored values ``(value - inter) / slope`` in ``out_dtype``."""
    out = np.dtype(out_dtype)
    _check_kinds(chunk.dtype, out)
    if chunk.dtype.fields is not None:
        return chunk.astype(out)
    scaled = slope != 1 or inter != 0
    if not scaled and chunk.dtype.newbyteorder("=") == out.newbyteorder("="):
        return chunk if chunk.dtype == out else chunk.astype(out)  # same values: they fit
    if out.kind in "iu":
        if not scaled and np.can_cast(chunk.dtype, out, "safe"):
            return chunk.astype(out)  # every value fits (a wider integer type)
        vals = chunk
        if scaled:
            vals = (chunk.astype(np.float64) - inter) / slope
        if vals.dtype.kind in "fc":
            return _float_to_int(vals, out, slope, inter)
        info = np.iinfo(out)
        if vals.size and (vals.min() < info.min or vals.max() > info.max):
            raise WriterError(
                _no_fit_message(
                    float(vals.min()), float(vals.max()), out, "no scaling was allowed"
                )
            )
        return vals.astype(out)
    vals = chunk
    if scaled:
        vals = (chunk.astype(np.promote_types(chunk.dtype, np.float64)) - inter) / slope
    if out.kind == "f" and vals.dtype.kind == "f" and out.itemsize < vals.dtype.itemsize:
        big = np.finfo(out).max
        finite = np.isfinite(vals)
        if np.any(np.abs(vals[finite]) > big):
            raise WriterError(f"data values exceed the range of {out} (max {big:g})")
    return vals.astype(out)


def _float_to_int(vals: np.ndarray, out: np.dtype, slope: float, inter: float) -> np.ndarray:
    info = np.iinfo(out)
    nan = np.isnan(vals)
    if np.isinf(vals).any():
        raise WriterError(f"data contain infinite values, which {out} cannot store")
    rounded = np.rint(vals)
    if nan.any():
        rounded[nan] = np.clip(np.rint(-inter / slope), info.min, info.max)
    if rounded.size:
        lo, hi = rounded.min(), rounded.max()
        if lo < info.min or hi > info.max:
            mn = lo * slope + inter
            mx = hi * slope + inter
            raise WriterError(_no_fit_message(mn, mx, out, "the scaling chosen cannot reach it"))
    return rounded.astype(out)


def write_array(
    data: np.ndarray,
    fileobj: BinaryIO,
    out_dtype: Any,
    offset: int | None = None,
    order: str = "F",
    slope: float = 1.0,
    inter: float = 0.0,
) -> None:
    """Write ``data`` as stored values in ``out_dtype`` (byte order included).

    Parameters
    ----------
    data : array-like
        The values (``stored * slope + inter`` is what a reader sees).
    fileobj : file-like
        Open for writing; data go at ``offset`` (padding with zeros when the
        stream is before it and cannot seek), or at the current position.
    out_dtype : dtype-like
        On-disk dtype, with the byte order to store.
    order : {'F', 'C'}
        Memory order to store the array in.
    """
    arr = np.asanyarray(data)
    out = np.dtype(out_dtype)
    if offset is not None:
        _seek_or_pad(fileobj, offset)
    expect_values = getattr(fileobj, "expect_values", None)
    if expect_values is not None:
        expect_values(out)
    # Every piece is either a view of ``arr`` or a buffer made for it and
    # never reused, so a compressing writer may keep it instead of copying.
    write = getattr(fileobj, "write_stable", None) or fileobj.write
    # closed on any exit: pieces being made ahead on worker threads are
    # cancelled or waited for before a failed write returns
    with contextlib.closing(_chunks_in_order(arr, order)) as chunks:
        for chunk in chunks:
            stored = to_stored(chunk, out, slope, inter)
            write(memoryview(np.ascontiguousarray(stored)).cast("B"))


#: a C-order array is written in F order by copying tiles of up to this many
#: elements along the first axis (a run of the output) ...
_TILE_FIRST = 128
#: ... times as many along the second axis (the further middle axes whole)
#: as keep the tile's source rows near this count: they stay in the
#: first-level cache while the slab's last-axis values are gathered
#: (256^3 int16: 27 ms, against 60 ms for tiles of 16 x all and 125 ms for
#: numpy's whole-array copy)
_TILE_ROWS = 256
#: Before that, runs of this many bytes along the last axis are moved as one
#: element (a void of that size) and spread out afterwards, within each slab,
#: by a copy whose reads are close together: the gather that jumps a whole
#: row of the source per element then makes 8 times fewer jumps for int16
#: (256^3 int16: 16 ms against 28 ms element by element, on a quiet machine)
_UNIT_BYTES = 16
#: tile sizes for such runs (they are larger than one element: fewer per row)
_UNIT_TILE_FIRST = 32
_UNIT_TILE_ROWS = 512
#: slabs of runs hold this many times CHUNK_ELEMENTS values (8 MiB of int16,
#: 8 runs = 128 bytes of each source row: the pair of cache lines a read
#: brings in is used whole). Alone, 4 and 8 MiB slabs cost the same (16-18
#: ms for 256^3 int16); beside the deflate on the codec threads, fewer and
#: longer slabs cost less: 26-28 ms of the workers' CPU against 31-38 ms for
#: 4 MiB slabs (24 ms for 16 MiB ones, which would hold twice the memory).
#: A C-order save of 256^3 int16 holds about 35 MiB (19 with 4 MiB slabs)
_UNIT_SLAB_CHUNKS = 4


def _chunks_in_order(arr: np.ndarray, order: str) -> Iterator[np.ndarray]:
    """Consecutive pieces of ``arr`` flattened in ``order``, about CHUNK_ELEMENTS each."""
    if arr.ndim == 0:
        yield arr.reshape(1)
        return
    opposite = arr.flags.c_contiguous if order == "F" else arr.flags.f_contiguous
    if arr.ndim < 2 or not opposite or arr.flags.f_contiguous == arr.flags.c_contiguous:
        flat = arr.reshape(-1, order=order)
        for start in range(0, flat.size, CHUNK_ELEMENTS):
            yield np.asarray(flat[start : start + CHUNK_ELEMENTS])
        return
    # Stored in the other memory order: a slab of the slowest stored axis at a
    # time, transposed in tiles (a whole-array reshape is several times slower).
    if order == "C":  # the transpose of an F-order array is C-ordered
        yield from _chunks_in_order(arr.T, "F")
        return
    yield from _transposed_chunks(arr)


def _transposed_chunks(arr: np.ndarray) -> Iterator[np.ndarray]:
    """F-order pieces of a C-contiguous array of two or more axes."""
    return _made_ahead(_transposing_steps(arr))


def _transposing_steps(arr: np.ndarray) -> Iterator[Callable[[], np.ndarray]]:
    """Functions that each make the next F-order piece of a C-contiguous array."""
    size = arr.dtype.itemsize
    per_unit = _UNIT_BYTES // size if size and _UNIT_BYTES % size == 0 else 1
    last = arr.shape[-1]
    grouped = last - last % per_unit if per_unit > 1 and not arr.dtype.hasobject else 0
    if grouped:
        # the last axis's first ``grouped`` values in runs of ``per_unit``
        units = arr[..., :grouped].view(np.dtype(f"V{_UNIT_BYTES}"))
        slab_values = _UNIT_SLAB_CHUNKS * CHUNK_ELEMENTS
        for part, tiles in _slabs(units, per_unit, slab_values, _UNIT_TILE_FIRST,
                                  _UNIT_TILE_ROWS):
            yield functools.partial(_spread, part, tiles, arr.dtype, per_unit)
    if grouped < last:
        for part, tiles in _slabs(arr[..., grouped:], 1, CHUNK_ELEMENTS, _TILE_FIRST,
                                  _TILE_ROWS):
            yield functools.partial(_flat_copy, part, tiles)


def _made_ahead(steps: Iterator[Callable[[], np.ndarray]]) -> Iterator[np.ndarray]:
    """The results of ``steps``, in order, made on the codec threads a few ahead.

    While the caller hands one piece to the compressor, the worker threads
    make the next ones, so the transposition runs on every core instead of
    delaying the first blocks and starving the compressor. Without worker
    threads (one thread, or called from a worker) the steps run here.
    """
    from .codecs import backends

    executor = backends.thread_pool()
    if executor is None:
        for step in steps:
            yield step()
        return
    pending: collections.deque[Any] = collections.deque()
    try:
        for step in itertools.islice(steps, backends.thread_count()):
            pending.append(executor.submit(step))
        while pending:
            piece = pending.popleft().result()
            step = next(steps, None)
            if step is not None:
                pending.append(executor.submit(step))
            yield piece
    finally:
        # on any exit (a failed write, Ctrl-C) no step outlives the save
        for future in pending:
            future.cancel()
        from concurrent.futures import wait

        wait([future for future in pending if not future.cancelled()])


def _slabs(
    arr: np.ndarray, per_element: int, slab_values: int, tile_first: int, tile_rows: int
) -> Iterator[tuple[np.ndarray, list[tuple[slice, ...]]]]:
    """Consecutive slabs of ``arr``'s last axis, each with the tiles to copy it by.

    ``per_element`` values of the caller's make one element of ``arr``; a
    slab holds about ``slab_values`` of the caller's values (at least one slice).
    """
    slow = arr.shape[-1]
    per_slice = max(1, arr.size // max(slow, 1)) * per_element
    step = max(1, slab_values // per_slice)
    first = arr.shape[0]
    rows_per_second = min(first, tile_first) * math.prod(arr.shape[2:-1])
    second = max(1, tile_rows // max(rows_per_second, 1))
    tiles = [
        # a 2-D array has no middle axis: its tiles span the slab
        (slice(x0, x0 + tile_first), slice(y0, y0 + second) if arr.ndim > 2 else slice(None))
        for y0 in range(0, arr.shape[1] if arr.ndim > 2 else 1, second)
        for x0 in range(0, first, tile_first)
    ]
    for z0 in range(0, slow, step):
        yield arr[..., z0 : z0 + step], tiles


def _tiled_copy(part: np.ndarray, tiles: list[tuple[slice, ...]]) -> np.ndarray:
    """An F-order copy of ``part``, made tile by tile."""
    buf = np.empty(part.shape, dtype=part.dtype, order="F")
    for tile in tiles:
        buf[tile] = part[tile]
    return buf


def _flat_copy(part: np.ndarray, tiles: list[tuple[slice, ...]]) -> np.ndarray:
    """``part``'s values in F order, flat."""
    return _tiled_copy(part, tiles).reshape(-1, order="F")


def _spread(
    part: np.ndarray, tiles: list[tuple[slice, ...]], dtype: np.dtype, per_unit: int
) -> np.ndarray:
    """The F-order values of a slab of runs of ``per_unit`` last-axis values.

    In ``part`` the ``per_unit`` values of a run sit side by side, one
    element; in the result each of them belongs to its own slice of the
    last axis.
    """
    slab = _tiled_copy(part, tiles)
    runs = slab.shape[-1]
    rows = slab.size // max(runs, 1)
    values = slab.reshape(-1, order="F").view(dtype).reshape(runs, rows, per_unit)
    out = np.empty((runs, per_unit, rows), dtype=dtype)
    out[...] = values.transpose(0, 2, 1)
    return out.reshape(-1)


def _seek_or_pad(fileobj: BinaryIO, offset: int) -> None:
    try:
        here = fileobj.tell()
    except (OSError, AttributeError):
        here = None
    if here == offset:
        return
    if here is not None and here < offset:
        fileobj.write(b"\x00" * (offset - here))
        return
    fileobj.seek(offset)


# -- safe replacement --------------------------------------------------------------------
@contextlib.contextmanager
def safe_replace(*targets: str | os.PathLike) -> Iterator[list[str]]:
    """Write files aside and put them in place of ``targets`` only if all succeed.

    Yields temporary names, one per target. When the block ends normally
    the temporary files take the targets' places, all of them or none
    (see :mod:`voxelio._replace` and docs/guarantees.md: symbolic links are
    followed, mode/owner/group kept, read-only targets refused, hard-linked
    targets written in place); when it raises, the temporary files are
    removed and every target is left as it was. Errors from the
    environment are OSErrors that name the targets, not the temporaries.

    Existing targets that are memory-mapped keep their old content for
    the mapping, so an image can be saved over the file it was read from.
    """
    from ._replace import safe_replace as replace

    with replace(*targets) as temps:
        yield temps


# -- what a save stores ------------------------------------------------------------------
class StoragePlan:
    """What to write for an image's data, and the scaling to record.

    Attributes
    ----------
    values : array-like
        Passed to :func:`write_array`.
    slope, inter : float
        The scaling a reader applies (what the header must record).
    values_are_stored : bool
        True when ``values`` already are stored values (an unchanged proxy
        re-saved in its own stored dtype: no re-scaling, no drift).
    """

    def __init__(self, values: Any, slope: float, inter: float, values_are_stored: bool) -> None:
        self.values = values
        self.slope = slope
        self.inter = inter
        self.values_are_stored = values_are_stored

    def write(
        self, fileobj: BinaryIO, out_dtype: Any, offset: int | None = None, order: str = "F"
    ) -> None:
        """Write the values as ``out_dtype`` at ``offset``."""
        if self.values_are_stored:
            write_array(self.values, fileobj, out_dtype, offset, order)
        else:
            write_array(self.values, fileobj, out_dtype, offset, order, self.slope, self.inter)


def plan_storage(
    dataobj: Any,
    out_dtype: Any,
    can_slope: bool = True,
    can_inter: bool = True,
    scale_dtype: Any = np.float32,
) -> StoragePlan:
    """Decide how to store an image's data in ``out_dtype``.

    A proxy whose stored dtype is ``out_dtype`` and whose scaling the format
    can record is written from its stored values with the same scaling, so
    that re-saving never drifts the scale factors. Anything else is read
    (scaled) and given the scaling :func:`choose_scaling` picks.
    """
    out = np.dtype(out_dtype)
    stored = getattr(dataobj, "dtype", None)
    if getattr(dataobj, "is_proxy", False) and stored is not None:
        same = np.dtype(stored).newbyteorder("=") == out.newbyteorder("=")
        slope, inter = float(dataobj.slope), float(dataobj.inter)
        storable = (slope == 1 or can_slope) and (inter == 0 or can_inter)
        if same and storable:
            return StoragePlan(dataobj.get_unscaled(), slope, inter, True)
    data = np.asanyarray(dataobj)
    slope, inter = choose_scaling(data, out, can_slope, can_inter, scale_dtype)
    return StoragePlan(data, slope, inter, False)
