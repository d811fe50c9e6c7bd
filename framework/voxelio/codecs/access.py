"""Positional reads of a file's compressed bytes, for the sources that decompress them."""

from __future__ import annotations

# _thread, not threading: the locks are the same, and importing threading costs
# every process about a millisecond it may never need
import _thread
import io
import os
from typing import Any

from ..errors import ImageFileError

CHUNK = 256 * 1024  # compressed bytes fetched per read from the file
#: decompressed bytes kept from the start of a stream, so that reading it again
#: (format detection, then the header, then a small file's data) inflates it once;
#: a single gzip member no larger is inflated whole when opened
HEAD_KEEP = 256 << 10
_HAS_PREADV = hasattr(os, "preadv")


def read_full(fobj: Any, n: int) -> bytes:
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
    the position it last asked for. ``whole`` gives the file's bytes from its
    start already read (a small file): reads inside them are served from memory.
    """

    def __init__(self, fobj: Any, name: str, *, own: bool = False,
                 whole: bytes | None = None) -> None:
        self.name = name
        self._fobj = fobj
        self._lock = _thread.allocate_lock()
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
        self._whole = whole if whole is not None and self._base == 0 else None

    def duplicate(self) -> Access | None:
        """An Access of its own on the same file, for a thread that may outlive the reader.

        It reads through a duplicate of voxelio's own descriptor, which it
        closes in :meth:`close`: the reader's file can be closed while that
        thread still runs. None when the file is not read through voxelio's
        own descriptor (a caller's file object: not closed by voxelio).
        """
        if self._fd is None or self._whole is not None:
            return None
        try:
            fd = os.dup(self._fd)
        except OSError:
            return None
        clone = Access.__new__(Access)
        clone.__dict__.update(self.__dict__)
        clone._lock = _thread.allocate_lock()
        clone._fd = fd
        clone._owned_fd = fd
        return clone

    def close(self) -> None:
        """Close the descriptor a :meth:`duplicate` opened (nothing for the others)."""
        fd, self._owned_fd = getattr(self, "_owned_fd", None), None
        if fd is not None:
            self._fd = None
            os.close(fd)

    def pread(self, offset: int, n: int) -> bytes:
        """Up to ``n`` bytes at ``offset`` (fewer only at the end of the file)."""
        whole = self._whole
        if whole is not None and offset + n <= len(whole):
            return whole if offset == 0 and n == len(whole) else whole[offset : offset + n]
        try:
            if self._fd is not None:
                return os.pread(self._fd, n, self._base + offset)
            with self._lock:
                if self.seekable:
                    self._fobj.seek(self._base + offset)
                    return read_full(self._fobj, n)
                return self._stream_read(offset, n)
        except OSError as err:
            raise ImageFileError(f"cannot read {self.name}: {err}") from None

    def preadinto(self, offset: int, buffer: memoryview) -> int:
        """Fill ``buffer`` from ``offset`` as far as the file goes; the bytes filled.

        Straight into ``buffer`` (no bytes object) when voxelio opened the file.
        """
        if self._fd is not None and _HAS_PREADV and self._whole is None:
            try:
                return os.preadv(self._fd, [buffer], self._base + offset)
            except OSError as err:
                raise ImageFileError(f"cannot read {self.name}: {err}") from None
        data = self.pread(offset, len(buffer))
        buffer[: len(data)] = data
        return len(data)

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
            self._buf += read_full(self._fobj, n - len(self._buf))
        return self._buf[:n]

    def size(self) -> int | None:
        """Bytes from the start position to the end, or None for a stream."""
        if self._whole is not None:
            return len(self._whole)  # the file as it was read whole a moment ago
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

