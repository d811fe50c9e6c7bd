"""Blocked gzip: the byte layout, the writers, and the member index.

A blocked gzip file is a plain concatenation of complete gzip members (RFC
1952 allows any number), each holding at most ``block_size`` uncompressed
bytes that were deflated independently. Every member's header carries an
FEXTRA subfield with the identifier ``VX`` and 8 bytes of payload: the whole
member's size in bytes (header to trailer) and its uncompressed size, both
unsigned 32-bit little endian. A reader finds member ``k + 1`` at the offset
of member ``k`` plus its size, without inflating anything; ordinary gzip
readers skip the unknown subfield and see one continuous stream.

BGZF files (bgzip, samtools) use the same idea with subfield ``BC`` and a
16-bit size; :func:`scan_members` indexes those too, taking the uncompressed
size from the member's ISIZE trailer.

Output is reproducible: mtime is 0, no file name, OS byte 255 ("unknown").
"""

from __future__ import annotations

import collections
import io
import struct
from collections.abc import Callable
from typing import Any, BinaryIO

from . import _codec_backends as backends

#: Uncompressed bytes per member. 512 KiB keeps the size cost of restarting
#: the deflate dictionary at about 0.2% at level 1 (1 MiB: 0.1%, 256 KiB:
#: 0.45%, 64 KiB: 1.5%) while a 3D volume of a 4D series spans at most two
#: or three members.
DEFAULT_BLOCK_SIZE = 512 * 1024
MAX_BLOCK_SIZE = 64 * 1024 * 1024
#: blocks in flight per worker thread in the blocked writer
_MAX_PENDING = 4

GZIP_MAGIC = b"\x1f\x8b"
_FEXTRA = 0x04
_OS_UNKNOWN = 255
SUBFIELD_ID = b"VX"
_SUBFIELD_LEN = 8
# ID1 ID2 CM FLG MTIME XFL OS | XLEN | SI1 SI2 LEN | member size, uncompressed size
_HEADER = struct.Struct("<2sBBIBBH2sHII")
HEADER_SIZE = _HEADER.size  # 24
_TRAILER = struct.Struct("<II")  # CRC32, ISIZE
_PLAIN_HEADER = struct.Struct("<2sBBIBB")


def _xfl(level: int) -> int:
    # RFC 1952: 2 = slowest/best compression, 4 = fastest.
    return 2 if level >= 9 else 4 if level <= 1 else 0


def build_member(payload: bytes, usize: int, crc: int, level: int) -> list[bytes]:
    """Header, deflated payload and trailer of one blocked member."""
    total = HEADER_SIZE + len(payload) + _TRAILER.size
    head = _HEADER.pack(
        GZIP_MAGIC, 8, _FEXTRA, 0, _xfl(level), _OS_UNKNOWN,
        4 + _SUBFIELD_LEN, SUBFIELD_ID, _SUBFIELD_LEN, total, usize,
    )
    return [head, payload, _TRAILER.pack(crc & 0xFFFFFFFF, usize & 0xFFFFFFFF)]


def parse_member_header(head: bytes) -> tuple[int, int | None] | None:
    """``(member size, uncompressed size or None)`` from a header's size subfield.

    Returns None when ``head`` is not a gzip header with a ``VX`` or ``BC``
    subfield (a plain gzip member), so the caller falls back to streaming.
    """
    if len(head) < 12 or head[:2] != GZIP_MAGIC or head[2] != 8 or not head[3] & _FEXTRA:
        return None
    (xlen,) = struct.unpack_from("<H", head, 10)
    extra = head[12 : 12 + xlen]
    pos = 0
    while pos + 4 <= len(extra):
        sid = bytes(extra[pos : pos + 2])
        (slen,) = struct.unpack_from("<H", extra, pos + 2)
        body = extra[pos + 4 : pos + 4 + slen]
        if len(body) < slen:
            return None
        if sid == SUBFIELD_ID and slen == _SUBFIELD_LEN:
            total, usize = struct.unpack("<II", body)
            return total, usize
        if sid == b"BC" and slen == 2:
            return struct.unpack("<H", body)[0] + 1, None
        pos += 4 + slen
    return None


def scan_members(
    pread: Callable[[int, int], bytes], file_size: int
) -> tuple[list[int], list[int], list[int]]:
    """Index the members at the start of a blocked file by hopping their headers.

    Returns ``(coffs, uoffs, csizes)``: member ``k`` starts at compressed offset
    ``coffs[k]`` and uncompressed offset ``uoffs[k]``; ``uoffs`` has one more
    entry, the uncompressed end of the indexed part. Scanning stops at the
    first member without a size subfield or whose size does not fit the
    file; the caller streams from ``coffs[-1] + csizes[-1]`` (or 0) onward.
    """
    coffs: list[int] = []
    csizes: list[int] = []
    uoffs = [0]
    pos = 0
    while pos < file_size:
        head = pread(pos, 64)
        if len(head) >= 12 and head[:2] == GZIP_MAGIC and head[3] & _FEXTRA:
            (xlen,) = struct.unpack_from("<H", head, 10)
            if 12 + xlen > len(head):
                head = pread(pos, 12 + xlen)
        parsed = parse_member_header(head)
        if parsed is None:
            break
        total, usize = parsed
        if total < 12 + _TRAILER.size or pos + total > file_size:
            break
        if usize is None:
            trailer = pread(pos + total - 4, 4)
            if len(trailer) < 4:
                break
            (usize,) = struct.unpack("<I", trailer)
        coffs.append(pos)
        csizes.append(total)
        uoffs.append(uoffs[-1] + usize)
        pos += total
    return coffs, uoffs, csizes


class _GzipWriterBase(io.RawIOBase):
    """Shared parts of the gzip writers: position, forward seek, finishing."""

    def __init__(self, fobj: BinaryIO, compresslevel: int | None) -> None:
        self._fobj = fobj
        self._deflater = backends.deflater(compresslevel)
        self._pos = 0
        self._finished = False

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move forward only (the gap is written as zeros), as formats pad to offsets."""
        target = {io.SEEK_SET: offset, io.SEEK_CUR: self._pos + offset}.get(whence)
        if target is None or target < self._pos:
            raise io.UnsupportedOperation("compressed output can only seek forward")
        gap = target - self._pos
        while gap:
            step = min(gap, 1 << 20)
            self.write(bytes(step))
            gap -= step
        return self._pos

    def seekable(self) -> bool:
        return False

    def finish(self) -> None:
        """Write what is buffered and the end of the stream (the file-like stays open)."""
        if not self._finished:
            self._finish()
            self._finished = True

    def _finish(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release the writer; does not finish the stream (``finish`` does) or close the file."""
        super().close()


class BlockedGzipWriter(_GzipWriterBase):
    """Write a blocked gzip stream; full blocks are deflated on the shared thread pool.

    The bytes written do not depend on the number of threads.
    """

    def __init__(
        self, fobj: BinaryIO, compresslevel: int | None = None,
        block_size: int = DEFAULT_BLOCK_SIZE,
    ) -> None:
        super().__init__(fobj, compresslevel)
        if not 1 <= block_size <= MAX_BLOCK_SIZE:
            raise ValueError(f"gzip block size must be 1..{MAX_BLOCK_SIZE}, not {block_size}")
        self._block = block_size
        self._buf = bytearray()
        self._members = 0
        self._pending: collections.deque[Any] = collections.deque()  # deflating members

    def write(self, data: Any) -> int:
        view = memoryview(data)
        if not view.contiguous:
            view = memoryview(view.tobytes())
        view = view.cast("B")
        n = len(view)
        blocks: list[Any] = []
        start = 0
        if self._buf:
            start = min(n, self._block - len(self._buf))
            self._buf += view[:start]
            if len(self._buf) == self._block:
                blocks.append(bytes(self._buf))
                self._buf.clear()
        # Whole blocks go to the workers (copied: the caller may reuse its buffer).
        while n - start >= self._block:
            blocks.append(view[start : start + self._block])
            start += self._block
        self._buf += view[start:]
        self._emit(blocks)
        self._pos += n
        return n

    def _deflate(self, block: Any) -> list[bytes]:
        d = self._deflater
        return build_member(d.compress(block), len(block), d.crc32(block), d.level)

    def _emit(self, blocks: list[Any]) -> None:
        """Deflate ``blocks`` on the shared pool; members are written in order as they finish.

        ``write`` returns before its blocks are deflated (they are copied
        first, so the caller may reuse its buffer): the caller prepares the
        next data while the workers compress. At most ``_MAX_PENDING`` blocks
        are in flight, which bounds the memory held.
        """
        if not blocks:
            return
        executor = backends.pool()
        if executor is None:
            for block in blocks:
                self._put(self._deflate(block))
            return
        limit = _MAX_PENDING * backends.thread_count()
        for block in blocks:
            owned = block if isinstance(block, bytes) else bytes(block)
            self._pending.append(executor.submit(self._deflate, owned))
            while len(self._pending) > limit or (self._pending and self._pending[0].done()):
                self._put(self._pending.popleft().result())

    def _put(self, parts: list[bytes]) -> None:
        for part in parts:
            self._fobj.write(part)
        self._members += 1

    def _drain(self) -> None:
        while self._pending:
            self._put(self._pending.popleft().result())

    def _finish(self) -> None:
        if self._buf or not (self._members or self._pending):
            self._emit([bytes(self._buf)])
            self._buf.clear()
        self._drain()

    def close(self) -> None:
        """Release the writer (members still deflating are dropped unless finished)."""
        for future in self._pending:
            future.cancel()
        for future in self._pending:
            if not future.cancelled():
                future.exception()  # wait: no worker is left using the writer
        self._pending.clear()
        super().close()


class GzipStreamWriter(_GzipWriterBase):
    """Write one ordinary gzip member (a single deflate stream)."""

    def __init__(self, fobj: BinaryIO, compresslevel: int | None = None) -> None:
        super().__init__(fobj, compresslevel)
        self._comp = self._deflater.compressobj()
        self._crc = 0
        fobj.write(_PLAIN_HEADER.pack(GZIP_MAGIC, 8, 0, 0, _xfl(self._deflater.level),
                                      _OS_UNKNOWN))

    def write(self, data: Any) -> int:
        view = memoryview(data)
        if not view.contiguous:
            view = memoryview(view.tobytes())
        view = view.cast("B")
        self._crc = self._deflater.crc32(view, self._crc)
        out = self._comp.compress(view)
        if out:
            self._fobj.write(out)
        self._pos += len(view)
        return len(view)

    def _finish(self) -> None:
        self._fobj.write(self._comp.flush())
        self._fobj.write(_TRAILER.pack(self._crc & 0xFFFFFFFF, self._pos & 0xFFFFFFFF))
