"""Codec adapters: one decompression step of gzip, bzip2 or zstd, in the sources' terms.

Each adapter hides how its library bounds output and hands back unconsumed
input, so :class:`~voxelio.codecs.seek_index.StreamSource` drives them all alike.
"""

from __future__ import annotations

from typing import Any

from . import backends
from . import gzip_layout as layout


class _GzipCodec:
    """zlib-style decompressors: bounded output, unconsumed input handed back."""

    name = "gzip"
    magics = (layout.GZIP_MAGIC,)
    can_checkpoint = True  # zlib's and zlib-ng's decompressobj have copy(); ISA-L's has not

    @property
    def errors(self) -> tuple[type[BaseException], ...]:
        # looked up when an error is being handled only (an ``except`` clause
        # evaluates its types then): opening a file reads no settings for it
        return backends.gzip_inflate_errors()

    @staticmethod
    def new(fast: bool) -> tuple[Any, bool]:
        if fast:
            d = backends.fast_gzip_decompressobj()
            if d is not None:
                return d, True
        return backends.checkpoint_gzip_module().decompressobj(31), False

    @staticmethod
    def step(d: Any, data: memoryview, max_out: int) -> tuple[bytes, int]:
        out = d.decompress(data, max_out)
        left = d.unused_data if d.eof else d.unconsumed_tail
        return out, len(data) - len(left)


class _BoundedCodec:
    """bz2 / compression.zstd decompressors: bounded output, input kept inside."""

    can_checkpoint = False

    def __init__(self, name: str, magics: tuple[bytes, ...], factory: Any, errors: Any) -> None:
        self.name, self.magics, self._factory, self.errors = name, magics, factory, errors

    def new(self, fast: bool) -> tuple[Any, bool]:
        return self._factory(), False

    @staticmethod
    def step(d: Any, data: memoryview, max_out: int) -> tuple[bytes, int]:
        fed = 0
        if d.needs_input:
            fed = len(data)
            out = d.decompress(data, max_out)
        else:
            out = d.decompress(b"", max_out)
        # At the end, unused bytes may include input fed by earlier calls: a
        # negative count moves the position back (the source re-reads them).
        return out, fed - len(d.unused_data) if d.eof else fed


class _UnboundedCodec:
    """zstandard's decompressobj: no output bound, so input is fed in measured sips."""

    can_checkpoint = False

    def __init__(self, name: str, magics: tuple[bytes, ...], factory: Any, errors: Any) -> None:
        self.name, self.magics, self._factory, self.errors = name, magics, factory, errors
        self._ratio = 32768  # worst case (zstd RLE blocks) until data shows better

    def new(self, fast: bool) -> tuple[Any, bool]:
        return self._factory(), False

    def step(self, d: Any, data: memoryview, max_out: int) -> tuple[bytes, int]:
        limit = max(512, min(len(data), max_out // self._ratio))
        feed = data[:limit]
        out = d.decompress(feed)
        if feed:
            self._ratio = max(4, 4 * len(out) // len(feed))
        return out, len(feed) - len(d.unused_data) if d.eof else len(feed)


_ZSTD_MAGICS = (b"\x28\xb5\x2f\xfd", *(bytes([0x50 + i, 0x2A, 0x4D, 0x18]) for i in range(16)))


def codec_adapter(codec: str) -> Any:
    """The adapter for ``codec`` ('gzip', 'bz2', 'zstd'), using the current backends."""
    if codec == "gzip":
        return _GzipCodec()
    if codec == "bz2":
        bz2 = backends.bz2_module()
        errors = (OSError, EOFError, ValueError)
        return _BoundedCodec("bz2", (b"BZh",), bz2.BZ2Decompressor, errors)
    if codec == "zstd":
        impl, module = backends.zstd_module()
        if impl == "zstandard":
            return _UnboundedCodec(
                "zstd", _ZSTD_MAGICS, lambda: module.ZstdDecompressor().decompressobj(),
                (module.ZstdError, ValueError),
            )
        return _BoundedCodec("zstd", _ZSTD_MAGICS, module.ZstdDecompressor,
                             (module.ZstdError, ValueError, EOFError))
    raise ValueError(f"unknown compression {codec!r}")
