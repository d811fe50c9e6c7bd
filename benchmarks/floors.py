"""Hardware and codec floors: the best any library could do on this machine.

- ``fromfile``: ``np.fromfile`` of the uncompressed .nii (page cache warm).
- ``astype_pass``: one ``astype(float64)`` pass over the memory-mapped .nii,
  the least work that produces ``get_fdata()``'s output.
- ``inflate``: the fastest installed single-thread gzip decompressor (ISA-L,
  zlib-ng or zlib, each tried; the fastest is kept) inflating the .nii.gz
  straight into a preallocated array.
- ``memcpy``: copying the same number of bytes between two arrays in memory.
- ``deflate`` (saves): the data's bytes in voxelio's blocked-gzip pieces,
  deflated and checksummed by the codec voxelio uses in this codec mode, on
  as many threads as it uses: the compression alone, without converting,
  ordering, writing or renaming anything.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import timing

CHUNK = 1 << 20


def fromfile(path: str, offset: int, dtype: np.dtype, shape: tuple[int, ...]
             ) -> Callable[[], np.ndarray]:
    """Read the data block of an uncompressed file with ``np.fromfile``."""
    count = int(np.prod(shape))
    return lambda: np.fromfile(path, dtype=dtype, count=count, offset=offset).reshape(
        shape, order="F")


def astype_pass(path: str, offset: int, dtype: np.dtype, shape: tuple[int, ...]
                ) -> Callable[[], np.ndarray]:
    """One ``astype(float64)`` pass straight from the memory-mapped data block."""
    def run() -> np.ndarray:
        mapped = np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape, order="F")
        return mapped.astype(np.float64)

    return run


def memcpy(nbytes: int) -> Callable[[], np.ndarray]:
    """Copy ``nbytes`` between two preallocated arrays."""
    src = np.ones(nbytes, dtype=np.uint8)
    dst = np.empty_like(src)

    def run() -> np.ndarray:
        np.copyto(dst, src)
        return dst

    return run


def _isal_into(path: str, out: memoryview) -> None:
    from isal import isal_zlib

    with open(path, "rb") as fh:
        reader = isal_zlib._GzipReader(fh, CHUNK)
        _fill(reader.readinto, out)


def _zlib_into(path: str, out: memoryview, module: object = zlib) -> None:
    """Inflate every gzip member of ``path`` into ``out`` (multi-member aware)."""
    d = module.decompressobj(31)  # type: ignore[attr-defined]
    pos = 0
    with open(path, "rb") as fh:
        chunk = b""
        while pos < len(out):
            if not chunk:
                chunk = fh.read(CHUNK)
                if not chunk:
                    break
            piece = d.decompress(chunk, len(out) - pos)
            out[pos:pos + len(piece)] = piece
            pos += len(piece)
            if d.eof:  # next member starts in the unused data
                chunk = d.unused_data
                d = module.decompressobj(31)  # type: ignore[attr-defined]
            else:
                chunk = d.unconsumed_tail


def _zlib_ng_into(path: str, out: memoryview) -> None:
    from zlib_ng import zlib_ng

    _zlib_into(path, out, zlib_ng)


def _fill(readinto: Callable[[memoryview], int], out: memoryview) -> None:
    pos = 0
    while pos < len(out):
        n = readinto(out[pos:])
        if not n:
            break
        pos += n


def decompressors() -> dict[str, Callable[[str, memoryview], None]]:
    """Installed single-thread gzip decompressors, by name."""
    found: dict[str, Callable[[str, memoryview], None]] = {"zlib": _zlib_into}
    try:
        import isal  # noqa: F401

        found["isal"] = _isal_into
    except ImportError:
        pass
    try:
        import zlib_ng  # noqa: F401

        found["zlib-ng"] = _zlib_ng_into
    except ImportError:
        pass
    return found


def inflate(path: str, offset: int, dtype: np.dtype, shape: tuple[int, ...],
            then: Callable[[np.ndarray], np.ndarray] | None = None,
            repeats: int = 3) -> tuple[str, Callable[[], np.ndarray]]:
    """The fastest decompressor for ``path`` and a callable reading the data with it.

    The file's first ``offset`` bytes (the header) are inflated into a
    scratch buffer, the rest straight into a preallocated array of
    ``shape`` (Fortran order); ``then`` (e.g. an ``astype``) is applied after.
    """
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    buf = np.empty(offset + nbytes, dtype=np.uint8)

    def runner(impl: Callable[[str, memoryview], None]) -> Callable[[], np.ndarray]:
        def run() -> np.ndarray:
            impl(path, memoryview(buf))
            arr = buf[offset:].view(dtype).reshape(shape, order="F")
            return then(arr) if then else arr
        return run

    candidates = {name: runner(impl) for name, impl in decompressors().items()}
    best = min(candidates, key=lambda n: timing.repeat(candidates[n], repeats, 0).median)
    return best, candidates[best]


_POOLS: dict[int, Any] = {}


def deflate(data: np.ndarray) -> tuple[str, Callable[[], list[bytes]]]:
    """Deflating ``data``'s stored bytes as a save does, on every codec thread.

    The values are laid out in Fortran order (as both formats store them)
    before timing; each call deflates every block. Returns a label (codec
    and threads) and the callable.
    """
    from concurrent.futures import ThreadPoolExecutor

    from voxelio.codecs import available_codecs, backends
    from voxelio.codecs.gzip_layout import DEFAULT_BLOCK_SIZE

    raw = memoryview(np.asfortranarray(data).reshape(-1, order="F").view(np.uint8))
    pieces = [raw[i:i + DEFAULT_BLOCK_SIZE] for i in range(0, len(raw), DEFAULT_BLOCK_SIZE)]
    deflater = backends.deflater(None, integers=data.dtype.kind in "biu")
    threads = backends.thread_count()
    pool = _POOLS.setdefault(threads, ThreadPoolExecutor(threads))

    def run() -> list[bytes]:
        return list(pool.map(deflater.member_body, pieces))

    codec = available_codecs()["gzip"].split()[0]
    return f"{codec} deflate on {threads} threads", run
