"""Opening a file through its compression: reading with random access, writing.

:func:`opened` is the context manager formats use for both directions;
:func:`open_indexed` and :func:`read_into` give random access to the
decompressed bytes. Reading recognises the codec from the content.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from typing import Any, BinaryIO

from ..errors import ImageFileError
from .detect import Compression, compression_from_name, detect_compression, normalise
from .handoff import SHARED, ReaderHandOff

#: files up to this size are read whole, in one system call, when voxelio opens them
#: by name: format detection, the member scan and the inflater then share those
#: bytes (one fetch of the compressed-byte reader: ``access.CHUNK``)
SMALL_FILE = 256 * 1024


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
            if mode == "rb":
                from .._fileidentity import open_regular

                return open_regular(fileish), True
            return open(fileish, mode), True
        except OSError as err:
            raise ImageFileError(f"cannot open {_describe(fileish)}: {err}") from err
    return fileish, False


def _open_identified(path: Any) -> tuple[Any, Any]:
    """A regular file opened by name for reading, and the identity of what was opened."""
    from .._fileidentity import open_identified

    try:
        return open_identified(path)
    except OSError as err:
        raise ImageFileError(f"cannot open {_describe(path)}: {err}") from err


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



def _indexed(
    fobj: Any, where: str, codec: str | None, *, own: bool, closers: list[Any],
    whole: bytes | None = None,
) -> Any:
    """An IndexedReader over ``fobj`` (positioned at its data) holding ``codec`` data."""
    # imported here: an uncompressed read never needs the decompression machinery
    from .reader import IndexedReader
    from .sources import open_source

    return IndexedReader(open_source(fobj, where, codec, own=own, whole=whole), where, closers)


def _open_named(path: Any, codec: str | None, where: str) -> tuple[Any, Any, Any, bytes | None]:
    """Open a regular file by name: ``(file object, its identity, codec, whole)``.

    ``codec`` 'auto' is recognised from the first bytes, peeked through the
    file's buffer (an uncompressed file's reader then reads them from there).
    ``whole`` is all of a small compressed file (at most ``SMALL_FILE``
    bytes), read without reading any byte twice, which the member scan and
    the inflater share; None otherwise.
    """
    fobj, identity = _open_identified(path)
    try:
        small = identity.size <= SMALL_FILE
        first = fobj.peek(4) if codec == "auto" or small else b""
        if codec == "auto":
            codec = detect_compression(first[:4])
        whole = None
        if codec is not None and small:
            whole = bytes(first[: identity.size])
            if len(whole) < identity.size:
                whole += os.pread(fobj.fileno(), identity.size - len(whole), len(whole))
    except OSError as err:
        fobj.close()
        raise ImageFileError(f"cannot read {where}: {err}") from err
    except BaseException:
        fobj.close()
        raise
    return fobj, identity, codec, whole


def _sniff(fobj: Any, where: str) -> tuple[Compression | None, Any]:
    """Detect compression from the first bytes without consuming them."""
    # here: a file opened by name peeks its own buffer (access is for file objects)
    from .access import is_seekable, read_full

    try:
        if is_seekable(fobj):
            here = fobj.tell()
            prefix = read_full(fobj, 4)
            fobj.seek(here)
            return detect_compression(prefix), fobj
        peek = getattr(fobj, "peek", None)
        if peek is not None:
            prefix = peek(4)[:4]
            if len(prefix) >= 4 or not prefix:
                return detect_compression(prefix), fobj
        prefix = read_full(fobj, 4)
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
        ``blocked``, the thread-safe positional reads
        ``read_range(offset, nbytes)`` and ``readinto_range(offset, buffer)``,
        and ``take_range(offset, nbytes, align)``, which hands over bytes a
        pass to the end of the stream inflated whole, without a copy (see
        :class:`~voxelio.codecs.IndexedReader`). Its index (gzip members,
        decompressor checkpoints) lives as long as it does. Usable as a
        context manager.

    Raises
    ------
    ImageFileError
        The file cannot be opened, or its codec is not installed.
    """
    codec = normalise(compression)
    where = _describe(fileish)
    whole = None
    if isinstance(fileish, (str, os.PathLike)):
        fobj, _, codec, whole = _open_named(fileish, codec, where)
        own = True
    else:
        fobj, own = fileish, False
    closers = [fobj.close] if own else []
    try:
        if codec == "auto":
            codec, fobj = _sniff(fobj, where)
        return _indexed(fobj, where, codec, own=own, closers=closers, whole=whole)
    except BaseException:
        for closer in closers:
            closer()
        raise


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
    reuse: bool | ReaderHandOff = False,
    leave_open: bool | ReaderHandOff = False,
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
    reuse, leave_open : bool or ReaderHandOff
        Reading a compressed file by name, to decompress it once for two
        reads in a row (a format's loader reading the header, then its
        proxy the data): ``leave_open`` puts the reader, with its index and
        whatever it keeps decompressed, into the given
        :class:`~voxelio.codecs.handoff.ReaderHandOff` at exit instead of
        closing it; ``reuse`` takes the reader from the given hand-off when
        it reads this same, unchanged file. True stands for one hand-off
        shared by the whole process. The caller that passes a hand-off
        decides how long it lives; see :mod:`voxelio.codecs.handoff`.

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
        take_from, leave_in = _hand_off(reuse), _hand_off(leave_open)
        if (take_from or leave_in) and isinstance(fileish, (str, os.PathLike)):
            yield from _opened_read_shared(fileish, compression, take_from, leave_in)
            return
        yield from _opened_read(fileish, compression)
    elif mode in ("wb", "w"):
        yield from _opened_write(fileish, compression, compresslevel, gzip_blocks)
    else:
        raise ValueError(f"mode must be 'rb' or 'wb', not {mode!r}")


def _opened_read(fileish: Any, compression: str | None) -> Iterator[BinaryIO]:
    codec = normalise(compression)
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
        reader = _indexed(fobj, where, codec, own=own, closers=[])
        stack.callback(reader.close)
        yield reader  # type: ignore[misc]


def _opened_read_shared(
    path: Any, compression: str | None, take_from: ReaderHandOff | None,
    leave_in: ReaderHandOff | None,
) -> Iterator[BinaryIO]:
    codec = normalise(compression)
    taken = take_from.take_identified(path) if take_from is not None else None
    reader, identity = taken if taken is not None else (None, None)
    if reader is not None and codec not in ("auto", reader.codec):
        reader.close()
        reader = None
    if reader is not None:
        reader.seek(0)  # a file opened by name is read from its start
    if reader is None:
        where = _describe(path)
        fobj, identity, codec, whole = _open_named(path, codec, where)
        try:
            if codec is None:
                with fobj:
                    yield fobj
                return
            reader = _indexed(fobj, where, codec, own=True, closers=[fobj.close], whole=whole)
        except BaseException:
            fobj.close()
            raise
    ok = False
    try:
        yield reader
        ok = True
    finally:
        if ok and leave_in is not None:
            leave_in.put(path, reader, identity)
        else:
            reader.close()


def _hand_off(choice: bool | ReaderHandOff | None) -> ReaderHandOff | None:
    """The hand-off a ``reuse`` / ``leave_open`` argument names (True: the shared one)."""
    if choice is True:
        return SHARED
    return choice or None


def _opened_write(
    fileish: Any, compression: str | None, compresslevel: int | None, gzip_blocks: bool | int
) -> Iterator[BinaryIO]:
    codec = normalise(compression)
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
        from .writers import make_writer

        writer, finish = make_writer(fobj, codec, compresslevel, gzip_blocks)
        stack.callback(writer.close)
        yield writer
        finish()
        flush = getattr(fobj, "flush", None)
        if flush is not None:
            flush()

