"""Images as lazy dask arrays, one file or many (the optional extra ``voxelio[dask]``).

:func:`to_dask` (also ``img.to_dask()``) puts a dask array over an image's
proxy; :func:`stack` puts one over many files. Nothing is read when the
array is built (only a few header bytes, to learn how the file is stored),
and the graph holds proxies, which pickle as a file name, offset, shape and
scaling, so workers in other processes open the files themselves.

How the default chunks follow the storage
-----------------------------------------
- Uncompressed and blocked gzip (what voxelio writes): chunks of whole
  slabs of the slowest axis (whole volumes of a 4-D image), about
  :data:`CHUNK_BYTES` each; each chunk reads only its bytes (for blocked
  gzip, only the members holding them), so chunks are independent and run
  in parallel anywhere.
- One compressed stream (a ``.nii.gz`` from most other tools, bz2, zstd):
  the bytes can only be inflated front to back, and a chunk read on its
  own would inflate everything before it, again for every chunk and on
  every worker. When every chunk is one run of the stream (whole slabs of
  the slowest axis, as by default, or parts of one slab), the chunks are
  read **in turn** by a chain of tasks: each reads its chunk (scaled) with
  the proxy the one before used, whose decompressor goes on from where the
  last chunk ended, so the stream is inflated once, one chunk at a time,
  and consumers start on the first chunks while the rest inflates. Chunks
  that interleave in the stream (a split of a faster axis across several
  slabs) are cut instead from one task that inflates the whole file; the
  whole stored array then passes through one worker's memory. Either way,
  for files read often, rewriting them once with voxelio (blocked gzip)
  gives independent chunks.
"""

from __future__ import annotations

import contextlib
import glob as _glob
import math
import operator
import os
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from ..errors import ImageDataError, ImageFileError
from ..proxy import is_proxy
from ..slicing import layout_strides

#: decompressed bytes aimed at per default chunk
CHUNK_BYTES = 64 << 20

#: headers :func:`stack` reads at once (threads), unless ``max_workers`` says otherwise
STACK_WORKERS = 16

#: ways a stored array can be read: chunks on their own, or one pass of a stream
RANDOM, STREAM = "random", "stream"

INSTALL_HINT = "pip install 'voxelio[dask]'"


def _dask_array() -> Any:
    try:
        import dask.array as da
    except ImportError:
        raise ImportError(f"voxelio's dask arrays need dask: {INSTALL_HINT}") from None
    return da


def storage_kind(proxy: Any) -> str:
    """:data:`RANDOM` if chunks of ``proxy`` can be read on their own, else :data:`STREAM`.

    Reads at most 64 header bytes of the file (never its data).
    """
    from ..codecs import detect_compression
    from ..codecs.gzip_layout import parse_member_header

    head = _head(proxy.file_like, 64)
    codec = detect_compression(head)
    if codec is None:
        return RANDOM
    if codec == "gzip" and parse_member_header(head) is not None:
        return RANDOM
    return STREAM


def _head(file_like: Any, n: int) -> bytes:
    if isinstance(file_like, str):
        from .._fileidentity import open_regular

        try:
            with open_regular(file_like) as fobj:
                return fobj.read(n)
        except OSError as err:
            raise ImageFileError(f"cannot read {file_like!r}: {err}") from err
    here = file_like.tell()
    try:
        file_like.seek(0)
        return file_like.read(n)
    finally:
        file_like.seek(here)


def default_chunks(shape: Sequence[int], itemsize: int, order: str = "F") -> tuple[int, ...]:
    """Whole slabs of the slowest axis, about :data:`CHUNK_BYTES` per chunk."""
    if not shape:
        return ()
    slow = len(shape) - 1 if order == "F" else 0
    slab = math.prod(n for i, n in enumerate(shape) if i != slow) * itemsize
    per = max(1, min(shape[slow], CHUNK_BYTES // max(slab, 1))) if shape[slow] else 1
    return tuple(per if i == slow else n for i, n in enumerate(shape))


def _source_of(obj: Any) -> tuple[Any, str]:
    """(proxy or array, name for the graph) for an image, proxy, array or file name."""
    if isinstance(obj, (str, os.PathLike)):
        from ..api import load

        img = load(obj)
        return img.dataobj, os.fspath(obj)
    dataobj = getattr(obj, "dataobj", obj)
    name = getattr(obj, "get_filename", lambda: None)() or ""
    return dataobj, name


def to_dask(
    obj: Any, chunks: Any = None, *, dtype: Any = None, name: str | None = None
) -> Any:
    """A lazy dask array of an image's (scaled) data.

    Parameters
    ----------
    obj : SpatialImage, ArrayProxy, array or file name
        What to read. A name is loaded first (its header only).
    chunks : dask chunks, optional
        Default: aligned to the storage (see the module notes). Any dask
        chunk specification is accepted ("auto", a tuple, a dict by axis).
    dtype : dtype-like, optional
        The dtype of the values; default the proxy's ``scaled_dtype``
        (float64 for scaled integers: never silently truncated).
    name : str, optional
        The dask name prefix (default derived from the file).

    Returns
    -------
    dask.array.Array
    """
    da = _dask_array()
    dataobj, filename = _source_of(obj)
    if not is_proxy(dataobj):
        arr = np.asarray(dataobj)
        return da.from_array(arr, chunks="auto" if chunks is None else chunks)
    return _proxy_array(dataobj, filename, chunks, dtype, name, storage_kind(dataobj))


def _proxy_array(
    proxy: Any, filename: str, chunks: Any, dtype: Any, name: str | None, kind: str
) -> Any:
    """:func:`to_dask` of a proxy whose :func:`storage_kind` is known."""
    da = _dask_array()
    out_dtype = np.dtype(proxy.scaled_dtype if dtype is None else dtype)
    if chunks is None:
        chunks = default_chunks(proxy.shape, out_dtype.itemsize, proxy.order)
    chunks = da.core.normalize_chunks(chunks, proxy.shape, dtype=out_dtype)
    from dask.base import tokenize

    token = tokenize(filename or id(proxy), proxy.offset, proxy.shape, str(proxy.dtype),
                     proxy.slope, proxy.inter, out_dtype.str, chunks)
    prefix = f"{name or 'voxelio-' + os.path.basename(filename or 'array')}-{token}"
    boxes = {
        index: tuple(
            slice(sum(c[:i]), sum(c[: i + 1])) for c, i in zip(chunks, index, strict=True)
        )
        for index in np.ndindex(*(len(c) for c in chunks))
    }
    graph: dict[Any, Any] = {}
    if kind == RANDOM:
        for index, box in boxes.items():
            graph[(prefix, *index)] = (_read_box, proxy, box, out_dtype)
    elif all(_is_run(box, proxy.shape, proxy.order) for box in boxes.values()):
        _read_in_turn(graph, prefix, proxy, boxes, out_dtype)
    else:
        _inflate_once(graph, prefix, proxy, boxes, out_dtype)
    return da.Array(graph, prefix, chunks, dtype=out_dtype)


def _is_run(box: tuple[slice, ...], shape: Sequence[int], order: str) -> bool:
    """True if ``box`` is one contiguous run of an array stored in ``order``."""
    axes = range(len(shape)) if order == "F" else reversed(range(len(shape)))
    cut = False  # an axis faster than this one is not whole
    for axis in axes:
        count = box[axis].stop - box[axis].start
        if cut and count != 1:
            return False
        cut = cut or count != shape[axis]
    return True


def _read_in_turn(
    graph: dict[Any, Any], prefix: str, proxy: Any, boxes: dict[tuple[int, ...], Any],
    dtype: np.dtype,
) -> None:
    """Chunks that are runs of one stream, read in stream order by a chain of tasks.

    Each task reads its chunk with the proxy the task before it used and
    hands it on with the chunk: in one process the proxy's decompressor
    simply goes on from where the last chunk ended, so the stream is
    inflated once, a chunk at a time (only a chunk or two held at once, and
    chunks ready for their consumers while the rest still inflates).
    Schedulers keep a task with the result it depends on; should one move a
    link to another process anyway, the proxy travels as its file name and
    offsets and that process inflates from the start of the stream (slower,
    still right).
    """
    strides = layout_strides(proxy.shape, 1, proxy.order)
    def start(index: tuple[int, ...]) -> int:
        return sum(b.start * s for b, s in zip(boxes[index], strides, strict=True))

    ordered = sorted(boxes, key=start)
    previous: Any = proxy
    for n, index in enumerate(ordered):
        link = (f"read-{prefix}", n)
        graph[link] = (_read_next, previous, boxes[index], dtype, n == len(ordered) - 1)
        graph[(prefix, *index)] = (operator.getitem, link, 1)
        previous = link


def _read_next(
    before: Any, box: tuple[slice, ...], dtype: np.dtype, last: bool
) -> tuple[Any, np.ndarray]:
    """(proxy, chunk): ``box`` read by the proxy of the link before (or ``before`` itself)."""
    proxy = before[0] if isinstance(before, tuple) else before
    try:
        return proxy, np.asarray(proxy.read(box, dtype=dtype))
    finally:
        if last:
            proxy.close()


def _inflate_once(
    graph: dict[Any, Any], prefix: str, proxy: Any, boxes: dict[tuple[int, ...], Any],
    dtype: np.dtype,
) -> None:
    """Chunks that interleave in the stream: one task inflates it all, chunks are cut."""
    whole = (f"inflate-{prefix}",)
    graph[whole] = (_read_stored, proxy)
    for index, box in boxes.items():
        graph[(prefix, *index)] = (_cut, whole, box, proxy.slope, proxy.inter, dtype)


def _read_box(proxy: Any, box: tuple[slice, ...], dtype: np.dtype) -> np.ndarray:
    return np.asarray(proxy.read(box, dtype=dtype))


def _read_stored(proxy: Any) -> np.ndarray:
    """The stored values, one pass through the stream (the proxy is closed after)."""
    try:
        return proxy.get_unscaled()
    finally:
        proxy.close()


def _cut(
    stored: np.ndarray, box: tuple[slice, ...], slope: float, inter: float, dtype: np.dtype
) -> np.ndarray:
    from ..proxy import _scale_into

    part = stored[box]
    return _scale_into(part, dtype, slope, inter) if (slope != 1 or inter) else part.astype(
        dtype, copy=True
    )


# -- many files ------------------------------------------------------------------------
def expand_paths(paths_or_glob: str | os.PathLike | Iterable[Any]) -> list[Any]:
    """A glob pattern (sorted matches) or a list of names/images, as a list."""
    if isinstance(paths_or_glob, (str, os.PathLike)):
        pattern = os.path.expanduser(os.fspath(paths_or_glob))
        found = sorted(_glob.glob(pattern))
        if not found:
            raise FileNotFoundError(2, "no file matches", pattern)
        return found
    items = list(paths_or_glob)
    if not items:
        raise ImageFileError("stack needs at least one file")
    return items


def stack(
    paths_or_glob: str | os.PathLike | Iterable[Any],
    axis: int | None = -1,
    *,
    chunks: Any = None,
    atol: float = 1e-5,
    check_affines: bool = True,
    storage_options: dict[str, Any] | None = None,
    max_workers: int | None = None,
) -> Any:
    """One lazy dask array from many images of the same grid.

    Parameters
    ----------
    paths_or_glob : str, os.PathLike or iterable
        A glob pattern (``"sub-*/func/*_bold.nii.gz"``, matches sorted by
        name) or file names, URLs or images.
    axis : int or None
        Where the new axis goes (default last: 3-D volumes become 4-D, 4-D
        series become 5-D). ``axis=None`` concatenates along the last axis
        instead of adding one (runs of 4-D series into one long series).
    chunks : dask chunks, optional
        Per file; default as :func:`to_dask`.
    atol : float
        Largest difference allowed between an affine's entries and the
        first file's.
    check_affines : bool
        Set to False to stack images whose affines differ.
    storage_options : dict, optional
        Passed to :func:`voxelio.load` for URLs (``s3://...``).
    max_workers : int, optional
        How many headers are read at once (threads); default
        :data:`STACK_WORKERS`, 1 reads them one after the other.

    Returns
    -------
    dask.array.Array
        Only the headers are read here; data are read when computed.

    Raises
    ------
    ImageDataError
        Naming the first file whose shape (or affine) differs from the first file's.

    Notes
    -----
    The files' headers are read by a few threads at once (waiting for a
    remote store or a disk overlaps, and inflating a header releases the
    GIL), but checked in input order: the error raised is the one reading
    the files one by one would raise first (a load error names its file),
    and the files after it are not waited for.
    """
    da = _dask_array()
    items = expand_paths(paths_or_glob)
    workers = STACK_WORKERS if max_workers is None else max_workers
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"max_workers must be a positive integer, not {max_workers!r}")
    # closed at once on an error: the threads still reading are waited for here
    with contextlib.closing(_opened_in_order(items, storage_options, workers)) as opened:
        arrays = _checked_arrays(opened, axis, chunks, atol, check_affines)
    dtype = np.result_type(*(a.dtype for a in arrays))
    arrays = [a.astype(dtype) if a.dtype != dtype else a for a in arrays]
    if axis is None:
        return da.concatenate(arrays, axis=-1)
    return da.stack(arrays, axis=axis)


def _checked_arrays(
    opened: Iterator[tuple[str, Any, str | None]], axis: int | None, chunks: Any,
    atol: float, check_affines: bool,
) -> list[Any]:
    """One dask array per opened file, each checked against the first file's grid."""
    arrays = []
    first_shape = first_affine = first_name = None
    for label, img, kind in opened:
        shape = tuple(img.shape)
        affine = None if getattr(img, "affine", None) is None else np.asarray(img.affine)
        if first_shape is None:
            first_shape, first_affine, first_name = shape, affine, label
        else:
            same = shape == first_shape if axis is not None else shape[:-1] == first_shape[:-1]
            if not same:
                raise ImageDataError(
                    f"cannot stack {label}: its shape {shape} differs from {first_shape} "
                    f"of {first_name}"
                )
            if check_affines and not _close(affine, first_affine, atol):
                raise ImageDataError(
                    f"cannot stack {label}: its affine differs from that of {first_name} by "
                    f"more than atol={atol}:\n{affine}\nvs\n{first_affine}\n"
                    "(pass atol=... or check_affines=False)"
                )
        if kind is None:
            arrays.append(to_dask(img, chunks))
        else:
            dataobj, filename = _source_of(img)
            arrays.append(_proxy_array(dataobj, filename, chunks, None, None, kind))
    return arrays


def _opened(item: Any, storage_options: dict[str, Any] | None) -> tuple[str, Any, str | None]:
    """(label, image, storage kind) of one item of a stack: the part that waits on I/O."""
    if isinstance(item, (str, os.PathLike)):
        from ..api import load

        img = load(item, storage_options=storage_options)
        label = os.fspath(item)
    else:
        img, label = item, repr(item)
    dataobj = getattr(img, "dataobj", None)
    return label, img, storage_kind(dataobj) if is_proxy(dataobj) else None


def _opened_in_order(
    items: Sequence[Any], storage_options: dict[str, Any] | None, workers: int
) -> Iterator[tuple[str, Any, str | None]]:
    """:func:`_opened` of every item, ``workers`` at a time, yielded in input order.

    The first item is opened here before any thread starts (a broken first
    file fails at once, and plugin discovery happens once, not in every
    thread). When the caller stops early (an error), items not started are
    cancelled and the running ones finished before this returns.
    """
    yield _opened(items[0], storage_options)
    rest = items[1:]
    if workers == 1 or len(rest) <= 1:
        for item in rest:
            yield _opened(item, storage_options)
        return
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(min(workers, len(rest)), thread_name_prefix="voxelio-stack")
    try:
        futures = [pool.submit(_opened, item, storage_options) for item in rest]
        for future in futures:
            yield future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _close(a: np.ndarray | None, b: np.ndarray | None, atol: float) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=0, atol=atol))


__all__ = ["CHUNK_BYTES", "STACK_WORKERS", "default_chunks", "stack", "storage_kind", "to_dask"]
