"""Streams that cannot seek (pipes, sockets, read-only wrappers) as image files.

Formats read a header, then data at an offset, sometimes going back;
they write a header, then data at an offset. A pipe can do neither seek.

- Reading: the holder's stream is wrapped in a :class:`SpooledStream`,
  which keeps every byte read so far, so that going back is served from
  memory and going forward reads (and keeps) what lies in between. Only
  what the format asks for is read: memory grows with the bytes consumed,
  never with a header field.
- Writing: the stream is wrapped in a :class:`SequentialWriter`, which
  counts the bytes written, turns a seek forward into zero padding, and
  refuses a seek back with ImageFileError before anything is written
  there (every first-party format writes front to back).
"""

from __future__ import annotations

import io
import os
from typing import Any

from .errors import ImageFileError

_PULL = 1 << 16


def is_seekable(fobj: Any) -> bool:
    """Whether ``fobj`` can seek (asking the object; a failing probe means no)."""
    try:
        seekable = fobj.seekable
    except AttributeError:
        return hasattr(fobj, "seek") and hasattr(fobj, "tell")
    try:
        return bool(seekable())
    except (OSError, ValueError):
        return False


class SpooledStream(io.RawIOBase):
    """A seekable reader over a stream that cannot seek, keeping what it read.

    Parameters
    ----------
    source : readable binary file-like
        Read forward only, from its current position (offset 0 here).
    """

    def __init__(self, source: Any) -> None:
        super().__init__()
        self._source = source
        self._kept = bytearray()
        self._pos = 0
        self._ended = False
        self.name = getattr(source, "name", None)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def _pull_to(self, end: int | None) -> None:
        """Read from the source until ``end`` bytes are kept (or it ends; None: to the end)."""
        while not self._ended and (end is None or len(self._kept) < end):
            want = _PULL if end is None else max(_PULL, end - len(self._kept))
            try:
                chunk = self._source.read(want)
            except OSError as err:
                raise ImageFileError(f"cannot read {self._where()}: {err}") from err
            if not chunk:
                self._ended = True
                break
            self._kept += chunk

    def _where(self) -> str:
        return repr(self.name) if isinstance(self.name, str) else "the stream"

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        self._pull_to(self._pos + len(view))
        got = max(0, min(len(view), len(self._kept) - self._pos))
        view[:got] = self._kept[self._pos : self._pos + got]
        self._pos += got
        return got

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            target = offset
        elif whence == io.SEEK_CUR:
            target = self._pos + offset
        elif whence == io.SEEK_END:
            self._pull_to(None)
            target = len(self._kept) + offset
        else:
            raise ValueError(f"invalid whence {whence!r}")
        if target < 0:
            raise ValueError(f"negative seek position {target}")
        self._pos = target
        return target

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:  # the source belongs to the caller
        super().close()


class SequentialWriter:
    """A writer over a stream that cannot seek: forward seeks pad with zeros."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self._pos = 0

    def write(self, data: Any) -> int:
        n = memoryview(data).nbytes
        self._raw.write(data)
        self._pos += n
        return n

    def tell(self) -> int:
        return self._pos

    def seekable(self) -> bool:
        return False

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        target = offset + (self._pos if whence == os.SEEK_CUR else 0)
        if whence not in (os.SEEK_SET, os.SEEK_CUR) or target < self._pos:
            raise ImageFileError(
                "cannot write this image to a stream that cannot seek: the format went back "
                f"to offset {target} after writing up to {self._pos}; write to a file or a "
                "seekable object (io.BytesIO) instead"
            )
        while self._pos < target:
            self.write(bytes(min(target - self._pos, 1 << 20)))
        return self._pos

    def flush(self) -> None:
        flush = getattr(self._raw, "flush", None)
        if flush is not None:
            flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


def make_seekable(holder: Any) -> None:
    """Wrap a holder's stream that cannot seek in a :class:`SpooledStream` (once).

    The holder then reads the stream from where it is now: that is where
    the image must start (``pos`` becomes 0).
    """
    fobj = getattr(holder, "fileobj", None)
    if fobj is None or isinstance(fobj, SpooledStream) or is_seekable(fobj):
        return
    if not hasattr(fobj, "read"):
        raise ImageFileError(
            f"cannot read an image from a {type(fobj).__name__} object: it has no read method"
        )
    holder.fileobj = SpooledStream(fobj)
    holder.pos = 0
