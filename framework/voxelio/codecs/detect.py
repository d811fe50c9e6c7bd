"""Which compression a file uses: from its name's suffix, or from its first bytes.

:data:`SUFFIX_CODECS` is the one table of compressed-file suffixes; every part
of voxelio that names, strips or lists them reads it from here. This module
imports nothing but the standard library, so the registry can use it cheaply.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Literal

Compression = Literal["gzip", "bz2", "zstd"]

#: Compressed-file suffix -> the codec it calls for.
SUFFIX_CODECS: dict[str, Compression] = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd"}
#: The suffixes a file name may carry after its format's extension.
COMPRESSED_SUFFIXES: tuple[str, ...] = tuple(SUFFIX_CODECS)

_ALIASES: dict[str, Compression] = {
    "gzip": "gzip", "gz": "gzip", "bz2": "bz2", "bzip2": "bz2",
    "zstd": "zstd", "zst": "zstd", "zstandard": "zstd",
}
_ZSTD_SKIPPABLE = (0x2A, 0x4D, 0x18)


def compression_from_name(name: str | os.PathLike[str]) -> Compression | None:
    """The compression a file name's suffix calls for, ignoring case.

    >>> compression_from_name('sub-01_T1w.NII.GZ')
    'gzip'
    >>> compression_from_name('brain.nii') is None
    True
    """
    lower = os.fspath(name).lower()
    for suffix, codec in SUFFIX_CODECS.items():
        if lower.endswith(suffix):
            return codec
    return None


def split_compression(
    filename: str, compressed_suffixes: Sequence[str] = COMPRESSED_SUFFIXES
) -> tuple[str, str]:
    """Split a trailing compression suffix ('.gz', ...) off a name, any case.

    Parameters
    ----------
    filename : str
    compressed_suffixes : sequence of str
        The suffixes to recognise (default: every codec's); the longest match wins.

    Returns
    -------
    base, suffix : str, str
        ``suffix`` is '' when the name has none; its case is kept.

    >>> split_compression('T1w.NII.GZ')
    ('T1w.NII', '.GZ')
    """
    lower = filename.lower()
    for suffix in sorted(compressed_suffixes, key=len, reverse=True):
        if suffix and lower.endswith(suffix.lower()):
            return filename[: -len(suffix)], filename[-len(suffix) :]
    return filename, ""


def strip_compression(name: str) -> str:
    """The name without a trailing compression suffix (any codec's, any case)."""
    return split_compression(name)[0]


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



def normalise(compression: str | None, *, allow_auto: bool = True) -> str | None:
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
