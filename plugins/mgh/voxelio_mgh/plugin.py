"""Entry module of voxelio-mgh: the format declaration, nothing heavy.

MGH files have no magic number. The content check is weak on purpose:
version 1, positive dimensions and a known data type code. It is gated by
the file name: it never claims a file that is not named ``.mgh``/``.mgz``
(so random binary files are not mistaken for MGH), and it says "no" for a
so-named file whose first bytes cannot be an MGH header, so that junk
gives a clear ImageFileError instead of a crash deep in a reader.

The sniffer lives in :mod:`voxelio_mgh.sniffing`: a load imports that
module alone (the registry names it from its cache), not this one.
"""

from __future__ import annotations

from voxelio.plugin import FormatSpec, hookimpl

from ._layout import (
    COMPRESSED_SUFFIXES,
    COMPRESSION_ALIASES,
    DTYPES,
    EXTENSIONS,
    FILES_TYPES,
    SNIFF_BYTES,
)
from .sniffing import sniff

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
