"""ISA-L's gzip reader over a file's compressed bytes: inflating straight into a buffer.

Every other Python inflater returns a new bytes object per call, which the
caller then copies where the bytes belong (and whose fresh memory costs page
faults). ISA-L's C gzip reader (``isal_zlib._GzipReader``, a private but
stable part of ``isal`` that :mod:`isal.igzip` is built on) fills the
caller's buffer itself, member after member, checking each member's CRC and
length. The sources use it where a read starts at the beginning of a gzip
stream and goes far: :class:`~voxelio.codecs.seek_index.StreamSource`'s large
reads from the start and its pass to the end of a stream
(:mod:`voxelio.codecs.held`).

Its words for a bad stream differ from voxelio's (``EOFError`` for a cut
stream *and* for bytes after it that start no member, ``gzip.BadGzipFile``
for a bad trailer): callers catch :func:`reader_errors` and let the ordinary
decompression pass read again, which reports the problem in voxelio's terms
or, for trailing bytes, ends the data where voxelio always does.
"""

from __future__ import annotations

from typing import Any

from . import backends
from .access import Access

#: compressed bytes the reader asks for at a time (measured on a 17 MB .nii.gz:
#: 64.5 ms of CPU at 256 KiB, 65.6 at 128 KiB and at 1 MiB, 70 at its default)
INPUT_BUFFER = 256 << 10
#: decompressed bytes inflated at a time when passing over bytes nobody asked for
SKIP_SCRATCH = 256 << 10


class CompressedFile:
    """A read-only file object over an :class:`Access`, from compressed offset ``pos`` on."""

    def __init__(self, access: Access, pos: int) -> None:
        self._access = access
        self._pos = pos

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._access.preadinto(self._pos, memoryview(buffer).cast("B"))
        self._pos += n
        return n

    def read(self, n: int = -1) -> bytes:
        data = self._access.pread(self._pos, n if n >= 0 else INPUT_BUFFER)
        self._pos += len(data)
        return data


def fast_reader(access: Access, cin: int) -> Any | None:
    """ISA-L's gzip reader of the stream starting at compressed offset ``cin``, or None.

    None without ISA-L (the standard library mode, or ``isal`` not installed).
    """
    return backends.fast_gzip_reader(CompressedFile(access, cin), INPUT_BUFFER)


def reader_errors() -> tuple[type[BaseException], ...]:
    """What the reader raises on a bad stream (see the module's docstring)."""
    import gzip

    return (gzip.BadGzipFile, EOFError, *backends.gzip_inflate_errors())


def fill(reader: Any, out: memoryview) -> int:
    """Inflate into ``out`` until it is full or the stream ends; the bytes written."""
    got = 0
    while got < len(out):
        n = reader.readinto(out[got:])
        if not n:
            break
        got += n
    return got


def skip(reader: Any, nbytes: int) -> int:
    """Inflate ``nbytes`` into a scratch buffer (to reach a later offset); the bytes passed."""
    scratch = memoryview(bytearray(min(nbytes, SKIP_SCRATCH)))
    done = 0
    while done < nbytes:
        n = reader.readinto(scratch[: min(nbytes - done, len(scratch))])
        if not n:
            break
        done += n
    return done
