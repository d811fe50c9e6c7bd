"""Entry module of voxelio-mgh: the format declaration, nothing heavy.

MGH files have no magic number. The content check is weak on purpose:
version 1, positive dimensions and a known data type code. It is gated by
the file name: it never claims a file that is not named ``.mgh``/``.mgz``
(so random binary files are not mistaken for MGH), and it says "no" for a
so-named file whose first bytes cannot be an MGH header, so that junk
gives a clear ImageFileError instead of a crash deep in a reader.
"""

from __future__ import annotations

import struct

from voxelio.plugin import NO, WEAK, FormatSpec, SniffResult, hookimpl

from ._layout import (
    COMPRESSED_SUFFIXES,
    COMPRESSION_ALIASES,
    DTYPES,
    EXTENSIONS,
    FILES_TYPES,
    HEADER_SIZE,
    READABLE_TYPES,
    SNIFF_BYTES,
    VALID_EXTS,
    VERSION,
)


def sniff(prefix: bytes, filespec: str | None) -> SniffResult | None:
    """Judge the first 24 bytes of a file named ``*.mgh`` / ``*.mgz``."""
    if filespec is None or not str(filespec).lower().endswith(VALID_EXTS):
        return None
    if len(prefix) < SNIFF_BYTES:
        return SniffResult(NO, f"only {len(prefix)} bytes: an MGH header needs {HEADER_SIZE}")
    version, *dims, code = struct.unpack(">6i", prefix[:SNIFF_BYTES])
    if version != VERSION:
        return SniffResult(NO, f"MGH version field is {version}, not {VERSION}")
    if any(d <= 0 for d in dims):
        return SniffResult(NO, f"MGH dimensions {dims} are not all positive")
    if code not in READABLE_TYPES:
        return SniffResult(NO, f"MGH data type code {code} is not one voxelio reads")
    shape = "x".join(str(d) for d in dims)
    return SniffResult(WEAK, f"MGH version 1, {shape} {READABLE_TYPES[code]}", strength=1)


MGH = FormatSpec(
    name="mgh",
    image_class="voxelio_mgh.image:MGHImage",
    extensions=EXTENSIONS,
    aliases=tuple(COMPRESSION_ALIASES),
    compressed_suffixes=COMPRESSED_SUFFIXES,
    files_types=FILES_TYPES,
    sniff=sniff,
    sniff_bytes=SNIFF_BYTES,
    sniff_trusted=True,  # one struct.unpack of 24 bytes: bounded
    exports={"MGHHeader": "voxelio_mgh.header:MGHHeader", "MGHTag": "voxelio_mgh.tags:MGHTag"},
    dtypes=DTYPES,
    description="FreeSurfer MGH/MGZ volume (.mgh, gzip-compressed .mgz), with its tags",
    nibabel_class="nibabel.freesurfer.mghformat:MGHImage",
)


@hookimpl
def voxelio_formats() -> list[FormatSpec]:
    """The MGH/MGZ format."""
    return [MGH]
