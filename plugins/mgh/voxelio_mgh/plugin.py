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

from voxelio.hookspecs import hookimpl
from voxelio.registry.spec import FormatSpec, SniffResult

#: the leading bytes the sniff looks at: version, dims, type
SNIFF_BYTES = 24
#: data type codes voxelio reads (voxelio_mgh.header.DATA_TYPES)
_READABLE_TYPES = {0: "uint8", 1: "int32", 3: "float32", 4: "int16", 10: "uint16"}
_EXTENSIONS = (".mgh", ".mgz")


def sniff(prefix: bytes, filespec: str | None) -> SniffResult | None:
    """Judge the first 24 bytes of a file named ``*.mgh`` / ``*.mgz``."""
    if filespec is None or not str(filespec).lower().endswith(_EXTENSIONS):
        return None
    if len(prefix) < SNIFF_BYTES:
        return SniffResult("no", f"only {len(prefix)} bytes: an MGH header needs 90")
    version, *dims, code = struct.unpack(">6i", prefix[:SNIFF_BYTES])
    if version != 1:
        return SniffResult("no", f"MGH version field is {version}, not 1")
    if any(d <= 0 for d in dims):
        return SniffResult("no", f"MGH dimensions {dims} are not all positive")
    if code not in _READABLE_TYPES:
        return SniffResult("no", f"MGH data type code {code} is not one voxelio reads")
    shape = "x".join(str(d) for d in dims)
    return SniffResult("weak", f"MGH version 1, {shape} {_READABLE_TYPES[code]}", strength=1)


MGH = FormatSpec(
    name="mgh",
    image_class="voxelio_mgh.image:MGHImage",
    extensions=(".mgh",),
    aliases=(".mgz",),
    compressed_suffixes=(),
    files_types=(("image", ".mgh"),),
    sniff=sniff,
    sniff_bytes=SNIFF_BYTES,
    exports={"MGHHeader": "voxelio_mgh.header:MGHHeader", "MGHTag": "voxelio_mgh.tags:MGHTag"},
    dtypes=("uint8", "int16", "uint16", "int32", "float32"),
    description="FreeSurfer MGH/MGZ volume (.mgh, gzip-compressed .mgz), with its tags",
)


@hookimpl
def voxelio_formats() -> list[FormatSpec]:
    """The MGH/MGZ format."""
    return [MGH]
