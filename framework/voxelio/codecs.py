"""Transparent compression (gzip, bzip2, zstd) for reading and writing any format.

Reading recognises compression from the content, so a compressed file is read
whatever its name; writing takes the compression from the caller, who
usually derives it from the file name with :func:`compression_from_name`.

gzip output is *blocked* by default: a sequence of independent gzip members
of at most 512 KiB of data each, every member stating its compressed and
uncompressed size in a header extra field (see :mod:`voxelio._gzipblocks`).
Every gzip reader reads such a file as ordinary gzip; voxelio inflates its
members in parallel and reads any byte range by inflating only the members
that hold it. Single-stream gzip written by other tools is read with a seek
index of decompressor checkpoints built as reading goes.

The fastest installed implementation does the work (:func:`available_codecs`):
ISA-L (``isal``) for gzip and ``zstandard`` for zstd when installed (extra
``voxelio[fast]``), the standard library otherwise. ``VOXELIO_STDLIB_CODECS=1``
forces the standard library; ``VOXELIO_NUM_THREADS`` bounds the worker threads.
No optional package (nor numpy) is imported until a codec is used.

(About 550 lines on purpose: the public compression API, its writers and
its stream wrappers belong together; the machinery lives in the _codec_*
and _gzipblocks modules.)
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
from collections.abc import Iterator
from typing import Any, BinaryIO, Literal

from . import _codec_backends as _backends
from .errors import ImageFileError

Compression = Literal["gzip", "bz2", "zstd"]

COMPRESSED_SUFFIXES: tuple[str, ...] = (".gz", ".bz2", ".zst")
#: Uncompressed bytes per gzip member in blocked output.
GZIP_BLOCK_SIZE = 512 * 1024

_SUFFIX_CODEC: dict[str, Compression] = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd"}
_ALIASES: dict[str, Compression] = {
    "gzip": "gzip", "gz": "gzip", "bz2": "bz2", "bzip2": "bz2",
    "zstd": "zstd", "zst": "zstd", "zstandard": "zstd",
}
_ZSTD_SKIPPABLE = (0x2A, 0x4D, 0x18)

__all__ = [
    "COMPRESSED_SUFFIXES",
    "GZIP_BLOCK_SIZE",
    "Compression",
    "available_codecs",
    "compression_from_name",
    "detect_compression",
    "open_indexed",
    "opened",
    "read_into",
]


def compression_from_name(name: str | os.PathLike[str]) -> Compression | None:
    """The compression a file name's suffix calls for, ignoring case.

    >>> compression_from_name('sub-01_T1w.NII.GZ')
    'gzip'
    >>> compression_from_name('brain.nii') is None
    True
    """
    lower = os.fspath(name).lower()
    for suffix, codec in _SUFFIX_CODEC.items():
        if lower.endswith(suffix):
            return codec
    return None


def detect_compression(prefix: bytes) -> Compression | None:
    """The compression whose magic bytes start ``prefix`` (4 bytes suffice), else None.

    gzip: ``1f 8b``; bzip2: ``BZh`` (then a block size digit); zstd: the frame
    magic ``28 b5 2f fd`` or a skippable frame ``5? 2a 4d 18``.
    """
    head = bytes(prefix[:4])
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head[:3] == b"BZh" and (len(head) < 4 or head[3:4] in b"123456789"):
        return "bz2"
    if head == b"\x28\xb5\x2f\xfd" or (
        len(head) == 4 and head[0] & 0xF0 == 0x50 and tuple(head[1:]) == _ZSTD_SKIPPABLE
    ):
        return "zstd"
    return None


def available_codecs() -> dict[str, str]:
    """Codec name -> the implementation voxelio uses for it, for every usable codec.

    A codec missing from the result cannot be used (zstd without ``zstandard``
    on Python < 3.14).

    >>> sorted(available_codecs())[:2]
    ['bz2', 'gzip']
    """
    return _backends.implementations()


def thread_pool() -> Any:
    """The worker threads codecs share (None when one thread should be used).

    Tasks on it must not wait for other tasks on it.
    """
    return _backends.pool()


def _normalise(compression: str | None, *, allow_auto: bool = True) -> str | None:
    if compression is None:
        return None
    key = str(compression).lower()
    if key == "auto" and allow_auto:
        return "auto"
    if key in _ALIASES:
        return _ALIASES[key]
    raise ValueError(
        f"unknown compression {compression!r}: use 'auto', None, 'gzip', 'bz2' or 'zstd'"
    )


def _describe(fileish: Any) -> str:
    if isinstance(fileish, (str, os.PathLike)):
        return repr(os.fspath(fileish))
    name = getattr(fileish, "name", None)
    if isinstance(name, str):
        return repr(name)
    return f"the {type(fileish).__name__} object"


def _open_path(fileish: Any, mode: str) -> tuple[Any, bool]:
    """``(file object, opened here)``."""
    if isinstance(fileish, (str, os.PathLike)):
        try:
            return open(fileish, mode), True
        except OSError as err:
            raise ImageFileError(f"cannot open {_describe(fileish)}: {err}") from err
    return fileish, False


class _Prefixed(io.RawIOBase):
    """A non-seekable stream whose first bytes were already read (to sniff them)."""

    def __init__(self, prefix: bytes, raw: Any, where: str) -> None:
        super().__init__()
        self._prefix = memoryview(prefix)
        self._raw = raw
        self._where = where
        self._pos = 0
        self.name = getattr(raw, "name", None)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        """Fill ``buffer`` completely unless the stream ends (unlike a raw pipe read)."""
        view = memoryview(buffer).cast("B")
        n = min(len(view), len(self._prefix))
        view[:n] = self._prefix[:n]
        self._prefix = self._prefix[n:]
        while n < len(view):
            data = self._raw.read(len(view) - n)
            if not data:
                break
            view[n : n + len(data)] = data
            n += len(data)
        self._pos += n
        return n

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Forward only: the bytes in between are read and dropped."""
        target = offset + (self._pos if whence == io.SEEK_CUR else 0)
        if whence not in (io.SEEK_SET, io.SEEK_CUR) or target < self._pos:
            raise ImageFileError(
                f"cannot seek back or from the end in {self._where}: it is a stream that "
                "cannot seek (open the file by name or pass a seekable file object)"
            )
        scratch = bytearray(min(target - self._pos, 1 << 20))
        while self._pos < target:
            if not self.readinto(memoryview(scratch)[: target - self._pos]):
                break
        self._pos = target
        return target

    def close(self) -> None:  # the wrapped stream belongs to the caller
        super().close()


class _UncompressedTell:
    """A compressing writer whose ``tell`` counts the uncompressed bytes written."""

    def __init__(self, writer: Any) -> None:
        self._writer = writer
        self._written = 0

    def write(self, data: Any) -> int:
        n = self._writer.write(data)
        self._written += memoryview(data).nbytes
        return n

    def tell(self) -> int:
        return self._written

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._writer, name)


def _sniff(fobj: Any, where: str) -> tuple[Compression | None, Any]:
    """Detect compression from the first bytes without consuming them."""
    from ._codec_sources import _read_full, is_seekable

    try:
        if is_seekable(fobj):
            here = fobj.tell()
            prefix = _read_full(fobj, 4)
            fobj.seek(here)
            return detect_compression(prefix), fobj
        peek = getattr(fobj, "peek", None)
        if peek is not None:
            prefix = peek(4)[:4]
            if len(prefix) >= 4 or not prefix:
                return detect_compression(prefix), fobj
        prefix = _read_full(fobj, 4)
    except OSError as err:
        raise ImageFileError(f"cannot read {where}: {err}") from err
    return detect_compression(prefix), _Prefixed(prefix, fobj, where)


def open_indexed(fileish: Any, compression: str | None = "auto") -> Any:
    """Open a file for random access to its decompressed bytes; the caller closes it.

    Parameters
    ----------
    fileish : str, os.PathLike or binary file object
        The file, or a readable file object positioned at the data (it is not
        closed when the reader is). A stream that cannot seek is read forward;
        going back raises ImageFileError.
    compression : {'auto', 'gzip', 'bz2', 'zstd', None}
        'auto' recognises the compression from the content; None reads raw.

    Returns
    -------
    IndexedReader
        A read-only binary file (``read``, ``readinto``, ``seek``, ``tell``)
        with ``size`` (decompressed size, None while unknown), ``codec``,
        ``blocked``, and the thread-safe positional reads
        ``read_range(offset, nbytes)`` and ``readinto_range(offset, buffer)``.
        Its index (gzip members, decompressor checkpoints) lives as long as it
        does. Usable as a context manager.

    Raises
    ------
    ImageFileError
        The file cannot be opened, or its codec is not installed.
    """
    from ._codec_reader import IndexedReader, open_source

    codec = _normalise(compression)
    where = _describe(fileish)
    fobj, own = _open_path(fileish, "rb")
    closers = [fobj.close] if own else []
    try:
        if codec == "auto":
            codec, fobj = _sniff(fobj, where)
        source = open_source(fobj, where, codec, own=own)
    except BaseException:
        for closer in closers:
            closer()
        raise
    return IndexedReader(source, where, closers)


def read_into(fileish: Any, offset: int, out: Any, compression: str | None = "auto") -> int:
    """Fill the buffer ``out`` with the decompressed bytes of ``fileish`` from ``offset``.

    The fast path for reading a whole compressed image into a preallocated
    array: blocked gzip is inflated in parallel straight into ``out``.

    Parameters
    ----------
    fileish : str, os.PathLike or binary file object
    offset : int
        Offset in the decompressed data.
    out : writable buffer
        A bytearray, memoryview or C-contiguous numpy array.
    compression : {'auto', 'gzip', 'bz2', 'zstd', None}

    Returns
    -------
    int
        ``len(out)`` in bytes.

    Raises
    ------
    ImageFileError
        The data ends before ``out`` is full, is corrupt, or cannot be read.
    """
    with open_indexed(fileish, compression) as reader:
        want = memoryview(out).nbytes
        got = reader.readinto_range(offset, out)
    if got < want:
        raise ImageFileError(
            f"{_describe(fileish)} ends early: expected {want} bytes from offset {offset}, "
            f"got {got}"
        )
    return got


@contextlib.contextmanager
def opened(
    fileish: Any,
    mode: str = "rb",
    compression: str | None = "auto",
    compresslevel: int | None = None,
    *,
    gzip_blocks: bool | int = True,
    reuse: bool = False,
    leave_open: bool = False,
) -> Iterator[BinaryIO]:
    """Open a file for reading or writing through its compression.

    Parameters
    ----------
    fileish : str, os.PathLike or binary file object
        What voxelio opens it closes on exit; a file object passed in is
        never closed. Reading starts at the object's current position.
    mode : {'rb', 'wb'}
    compression : {'auto', 'gzip', 'bz2', 'zstd', None}
        Reading: 'auto' recognises the codec from the content (a stream
        that cannot seek is peeked, not consumed). Writing: the codec to
        write; 'auto' takes it from the file name (none for file objects).
    compresslevel : int, optional
        gzip: 0-9 on zlib's scale (default 1, NiBabel's default, compressed
        with ISA-L when installed to about the same size); bz2: 1-9 (9);
        zstd: 1-22 (3).
    gzip_blocks : bool or int
        Writing gzip: True writes blocked gzip with ``GZIP_BLOCK_SIZE``
        members, an int gives another member size in bytes, False writes
        a single deflate stream.
    reuse, leave_open : bool
        Reading a compressed file by name: ``leave_open`` hands the reader,
        with its index and whatever it keeps decompressed, on at exit
        instead of closing it; the next open of the same unchanged file with
        ``reuse`` takes it instead of decompressing again (a format that
        reads a header, then has a proxy read the data). One reader is left
        open at a time; the previous one is closed.

    Yields
    ------
    binary file object
        Reading: the file itself when uncompressed, else an
        :class:`IndexedReader` (see :func:`open_indexed`). Writing: a
        writable object that compresses what it is given; its ``tell``
        counts uncompressed bytes and it can seek forward (padding zeros).

    Raises
    ------
    ImageFileError
        On open or read failures, corrupt or truncated compressed data, and
        when the codec's package is not installed.
    """
    if mode in ("rb", "r"):
        if (reuse or leave_open) and isinstance(fileish, (str, os.PathLike)):
            yield from _opened_read_shared(fileish, compression, reuse, leave_open)
            return
        yield from _opened_read(fileish, compression)
    elif mode in ("wb", "w"):
        yield from _opened_write(fileish, compression, compresslevel, gzip_blocks)
    else:
        raise ValueError(f"mode must be 'rb' or 'wb', not {mode!r}")


def _opened_read(fileish: Any, compression: str | None) -> Iterator[BinaryIO]:
    codec = _normalise(compression)
    if codec is not None and codec != "auto":
        with open_indexed(fileish, codec) as reader:
            yield reader
        return
    where = _describe(fileish)
    fobj, own = _open_path(fileish, "rb")
    with contextlib.ExitStack() as stack:
        if own:
            stack.callback(fobj.close)
        if codec == "auto":
            codec, fobj = _sniff(fobj, where)
        if codec is None:
            yield fobj
            return
        from ._codec_reader import IndexedReader, open_source

        reader = IndexedReader(open_source(fobj, where, codec, own=own), where, [])
        stack.callback(reader.close)
        yield reader  # type: ignore[misc]


_left_lock = threading.Lock()
_left: tuple[tuple[Any, ...], Any] | None = None  # (file key, IndexedReader)
_left_atexit = False


def _file_key(path: Any) -> tuple[Any, ...] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (os.fspath(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _take_left(key: tuple[Any, ...] | None) -> Any | None:
    global _left
    with _left_lock:
        if _left is None or key is None or _left[0] != key:
            return None
        reader = _left[1]
        _left = None
    return None if reader.closed else reader


def _leave(key: tuple[Any, ...] | None, reader: Any) -> None:
    global _left, _left_atexit
    if key is None:
        reader.close()
        return
    with _left_lock:
        previous, _left = _left, (key, reader)
        if not _left_atexit:
            import atexit

            atexit.register(_close_left)
            _left_atexit = True
    if previous is not None:
        previous[1].close()


def _close_left() -> None:
    """Close the reader left open, if any (at exit)."""
    global _left
    with _left_lock:
        previous, _left = _left, None
    if previous is not None:
        previous[1].close()


def _opened_read_shared(
    path: Any, compression: str | None, reuse: bool, leave_open: bool
) -> Iterator[BinaryIO]:
    codec = _normalise(compression)
    key = _file_key(path)
    reader = _take_left(key) if reuse else None
    if reader is not None and codec not in ("auto", reader.codec):
        reader.close()
        reader = None
    if reader is None:
        where = _describe(path)
        fobj, _own = _open_path(path, "rb")
        try:
            if codec == "auto":
                codec, fobj = _sniff(fobj, where)
            if codec is None:
                with fobj:
                    yield fobj
                return
            from ._codec_reader import IndexedReader, open_source

            reader = IndexedReader(open_source(fobj, where, codec, own=True), where, [fobj.close])
        except BaseException:
            fobj.close()
            raise
    ok = False
    try:
        yield reader
        ok = True
    finally:
        if ok and leave_open:
            _leave(key, reader)
        else:
            reader.close()


def _opened_write(
    fileish: Any, compression: str | None, compresslevel: int | None, gzip_blocks: bool | int
) -> Iterator[BinaryIO]:
    codec = _normalise(compression)
    if codec == "auto":
        is_path = isinstance(fileish, (str, os.PathLike))
        codec = compression_from_name(fileish) if is_path else None
    fobj, own = _open_path(fileish, "wb")
    with contextlib.ExitStack() as stack:
        if own:
            stack.callback(fobj.close)
        if codec is None:
            yield fobj
            return
        writer, finish = _writer(fobj, codec, compresslevel, gzip_blocks)
        stack.callback(writer.close)
        yield writer
        finish()
        flush = getattr(fobj, "flush", None)
        if flush is not None:
            flush()


def _writer(fobj: Any, codec: str, level: int | None, gzip_blocks: bool | int) -> tuple[Any, Any]:
    """``(writer, finish)``: finish ends the compressed stream without closing ``fobj``."""
    if codec == "gzip":
        from . import _gzipblocks

        if gzip_blocks is False or gzip_blocks is None:
            w: Any = _gzipblocks.GzipStreamWriter(fobj, level)
        else:
            size = GZIP_BLOCK_SIZE if gzip_blocks is True else int(gzip_blocks)
            w = _gzipblocks.BlockedGzipWriter(fobj, level, size)
        return w, w.finish
    if codec == "bz2":
        level = _backends.DEFAULT_BZ2_LEVEL if level is None else level
        if not 1 <= level <= 9:
            raise ValueError(f"bz2 compresslevel must be between 1 and 9, not {level!r}")
        w = _backends.bz2_module().BZ2File(fobj, "wb", compresslevel=level)
        return w, w.close
    level = _backends.DEFAULT_ZSTD_LEVEL if level is None else level
    impl, module = _backends.zstd_module()
    # A content checksum, as the zstd tool writes, so corruption is detected on reading.
    if impl == "zstandard":
        cctx = module.ZstdCompressor(level=level, write_checksum=True)
        # zstandard's writer tells compressed positions; formats need uncompressed ones
        w = _UncompressedTell(cctx.stream_writer(fobj, closefd=False))
    else:
        param = module.CompressionParameter
        options = {param.compression_level: level, param.checksum_flag: 1}
        w = module.ZstdFile(fobj, "wb", options=options)
    return w, w.close
