"""Compressing writers: blocked and single-stream gzip, bzip2 and zstd.

gzip output is blocked by default (see :mod:`voxelio.codecs.gzip_layout`);
every writer's ``tell`` counts uncompressed bytes, which formats need to lay
out their data.
"""

from __future__ import annotations

import collections
import io
from typing import Any, BinaryIO

from . import backends
from .gzip_layout import (
    DEFAULT_BLOCK_SIZE,
    MAX_BLOCK_SIZE,
    member_header,
    member_trailer,
    plain_member_header,
)

#: blocks in flight per worker thread in the blocked writer
_MAX_PENDING = 4



class _GzipWriterBase(io.RawIOBase):
    """Shared parts of the gzip writers: position, forward seek, finishing."""

    def __init__(self, fobj: BinaryIO, compresslevel: int | None) -> None:
        self._fobj = fobj
        self._level = compresslevel
        self._deflater = backends.deflater(compresslevel)
        self._pos = 0
        self._finished = False

    def expect_values(self, dtype: Any) -> None:
        """Say what the bytes written next hold (``dtype``), to pick the fastest deflater.

        Integer values get a faster deflate setting of the same or smaller
        output (see :func:`voxelio.codecs.backends.deflater`). The stream
        stays a valid gzip stream whatever is said; a single-stream writer
        keeps the setting it started with.
        """

    def write_stable(self, data: Any) -> int:
        """Write ``data`` that the caller leaves unchanged until :meth:`finish` returns.

        Same result as :meth:`write`; a writer may then use ``data`` in place
        instead of copying it.
        """
        return self.write(data)

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

    def expect_values(self, dtype: Any) -> None:
        # members already handed to workers keep the deflater they were given
        integers = getattr(dtype, "kind", "") in "biu"
        self._deflater = backends.deflater(self._level, integers=integers)

    def write(self, data: Any) -> int:
        return self._write(data, stable=False)

    def write_stable(self, data: Any) -> int:
        """Write ``data`` the caller leaves unchanged until :meth:`finish` returns.

        Its whole blocks are deflated in place, not copied; a piece of at
        least one block starts a new member (what was buffered before it
        becomes a shorter member).
        """
        return self._write(data, stable=True)

    def _write(self, data: Any, stable: bool) -> int:
        view = memoryview(data)
        if not view.contiguous:
            view = memoryview(view.tobytes())
        view = view.cast("B")
        n = len(view)
        blocks: list[Any] = []
        start = 0
        if stable and self._buf and n >= self._block:
            # A large piece the caller keeps unchanged starts a member of its
            # own: its blocks are then deflated where they lie. Filling the
            # buffered block from it instead (after a file's header, say)
            # would shift every later block off its pieces and copy about
            # half of them; the short member costs a few dozen bytes.
            blocks.append(bytes(self._buf))
            self._buf.clear()
        if self._buf:
            start = min(n, self._block - len(self._buf))
            self._buf += view[:start]
            if len(self._buf) == self._block:
                blocks.append(bytes(self._buf))
                self._buf.clear()
        # Whole blocks go to the workers, copied unless the caller keeps them
        # unchanged (it may reuse its buffer once write returns).
        while n - start >= self._block:
            blocks.append(view[start : start + self._block])
            start += self._block
        self._buf += view[start:]
        self._emit(blocks, stable)
        self._pos += n
        return n

    @staticmethod
    def _deflate(block: Any, d: backends.Deflater) -> list[bytes]:
        body = d.member_body(block)  # deflated and checksummed in one pass
        return [member_header(len(body), len(block), d.level), body]

    def _emit(self, blocks: list[Any], stable: bool = False) -> None:
        """Deflate ``blocks`` on the shared pool; members are written in order as they finish.

        ``write`` returns before its blocks are deflated (they are copied
        first unless ``stable``, so the caller may reuse its buffer): the
        caller prepares the next data while the workers compress. At most
        ``_MAX_PENDING`` blocks per thread are in flight, which bounds the
        memory held.
        """
        if not blocks:
            return
        d = self._deflater
        executor = backends.thread_pool()
        if executor is None:
            for block in blocks:
                self._put(self._deflate(block, d))
            return
        limit = _MAX_PENDING * backends.thread_count()
        for block in blocks:
            owned = block if stable or isinstance(block, bytes) else bytes(block)
            self._pending.append(executor.submit(self._deflate, owned, d))
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
        fobj.write(plain_member_header(self._deflater.level))

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
        self._fobj.write(member_trailer(self._crc, self._pos))



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


def make_writer(
    fobj: Any, codec: str, level: int | None, gzip_blocks: bool | int
) -> tuple[Any, Any]:
    """``(writer, finish)``: finish ends the compressed stream without closing ``fobj``."""
    if codec == "gzip":
        if gzip_blocks is False or gzip_blocks is None:
            w: Any = GzipStreamWriter(fobj, level)
        else:
            size = DEFAULT_BLOCK_SIZE if gzip_blocks is True else int(gzip_blocks)
            w = BlockedGzipWriter(fobj, level, size)
        return w, w.finish
    if codec == "bz2":
        level = backends.DEFAULT_BZ2_LEVEL if level is None else level
        if not 1 <= level <= 9:
            raise ValueError(f"bz2 compresslevel must be between 1 and 9, not {level!r}")
        w = backends.bz2_module().BZ2File(fobj, "wb", compresslevel=level)
        return w, w.close
    level = backends.DEFAULT_ZSTD_LEVEL if level is None else level
    impl, module = backends.zstd_module()
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
