"""Helpers for the codec tests: test data, in-memory compression, odd streams."""

from __future__ import annotations

import io
import threading

import numpy as np

from voxelio import codecs
from voxelio.codecs import seek_index


def smooth_noise(nbytes: int, seed: int = 0) -> bytes:
    """int16 values like an MRI volume (smooth field plus noise), so they compress ~1.5x."""
    rng = np.random.default_rng(seed)
    n = nbytes // 2
    coarse = rng.normal(600, 200, n // 256 + 2)
    field = np.interp(np.arange(n) / 256, np.arange(coarse.size), coarse)
    values = field + rng.normal(0, 15, n)
    return values.astype("<i2").tobytes() + bytes(nbytes - 2 * n)


def compress(data: bytes, codec: str | None, **kwargs) -> bytes:
    """``data`` compressed by voxelio into memory."""
    buf = io.BytesIO()
    with codecs.opened(buf, "wb", codec, **kwargs) as f:
        f.write(data)
    return buf.getvalue()


class ReadOnlyStream:
    """A stream with ``read`` only: not seekable, no ``peek`` (like a pipe or socket)."""

    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)
        self.closed = False

    def read(self, n: int = -1) -> bytes:
        if n < 0:
            n = len(self._data)
        n = min(n, 4097)  # short reads, as pipes give
        out, self._data = bytes(self._data[:n]), self._data[n:]
        return out

    def close(self) -> None:
        self.closed = True


class PipeRaw(io.RawIOBase):
    """A raw binary stream that cannot seek (``io.BufferedReader`` over it can peek)."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self._data = memoryview(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), len(self._data), 4097)
        buffer[:n] = self._data[:n]
        self._data = self._data[n:]
        return n


class WriteOnlySink:
    """A sink with ``write`` only, recording what it gets."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.closed = False

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def close(self) -> None:
        self.closed = True

    def getvalue(self) -> bytes:
        return b"".join(self.parts)


def usable(codec: str | None) -> bool:
    """True when ``codec`` can be used in this environment."""
    return codec is None or codec in codecs.available_codecs()


#: the word a voxelio error names for each kind of damage :func:`damaged_gzip` makes
DAMAGE_WORDS = {"truncate": "truncated", "corrupt": "corrupt", "crc": "corrupt"}


def damaged_gzip(raw: bytes, damage: str, *, keep_trailer: bool = False) -> bytes:
    """``raw`` gzip bytes with one kind of damage.

    ``"truncate"`` cuts the stream (to half, its last 4 bytes kept so the size
    is still stated, with ``keep_trailer``; else to two thirds), ``"corrupt"``
    flips 64 bytes in the middle of the deflate data, ``"crc"`` breaks the
    trailer's CRC.
    """
    out = bytearray(raw)
    if damage == "truncate":
        return bytes(out[: len(out) // 2] + out[-4:] if keep_trailer else out[: len(out) * 2 // 3])
    if damage == "corrupt":
        mid = len(out) // 2
        out[mid : mid + 64] = bytes(b ^ 0x5A for b in out[mid : mid + 64])
    elif damage == "crc":
        out[-8] ^= 0xFF
    else:
        raise ValueError(f"unknown damage {damage!r}")
    return bytes(out)


class HeldIndexer:
    """Holds every indexing pass at its start until released (a pass a busy machine runs
    late), and counts the decompressed bytes the indexing passes produce."""

    def __init__(self, monkeypatch) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.bytes = 0  # decompressed bytes the indexing passes produced
        monkeypatch.setattr(seek_index, "_lower_priority_of_this_thread", self._hold)
        produce = seek_index.StreamSource._produce

        def counted(source, state, max_out):
            chunk = produce(source, state, max_out)
            if threading.current_thread().name == "voxelio-gzip-index":
                self.bytes += len(chunk)
            return chunk

        monkeypatch.setattr(seek_index.StreamSource, "_produce", counted)

    def _hold(self) -> None:
        self.started.set()
        assert self.release.wait(60), "the test never released the indexing pass"
