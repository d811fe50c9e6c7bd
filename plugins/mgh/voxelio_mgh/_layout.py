"""The facts of the MGH/MGZ format, stated once, as plain data (no numpy).

The entry module (:mod:`voxelio_mgh.plugin`: the FormatSpec), the sniffer
(:mod:`voxelio_mgh.sniffing`), the header and the image all read them from
here, so that they cannot disagree; the conformance kit checks that the spec
and the image class do.
"""

from __future__ import annotations

#: the format's own suffix; ``.mgz`` (below) names its gzip-compressed form
EXTENSIONS = (".mgh",)
#: complete suffixes that name the format and imply a codec
COMPRESSION_ALIASES = {".mgz": "gzip"}
#: MGH is compressed as ``.mgz`` only, never as ``.mgh.gz``
COMPRESSED_SUFFIXES: tuple[str, ...] = ()
#: one file holds header, data, footer and tags
FILES_TYPES = (("image", ".mgh"),)
#: every suffix the image class accepts
VALID_EXTS = EXTENSIONS + tuple(COMPRESSION_ALIASES)

#: the header: version, dims, type, dof, goodRASFlag, delta, Mdc, Pxyz_c
HEADER_SIZE = 90
#: the footer after the data: tr, flip_angle, te, ti, fov
FOOTER_SIZE = 20
#: where the data start (Fortran order, big-endian); the bytes before are unused
DATA_OFFSET = 284
#: width, height, depth, frames
MAX_DIMS = 4
#: the only version field MGH files have
VERSION = 1
#: the leading bytes the sniff looks at: version, four dimensions, type code
SNIFF_BYTES = 24

#: FreeSurfer's MRI_* data type codes: (code, label, numpy dtype or None, aliases)
DATA_TYPES = (
    (0, "uchar", "uint8", ("uint8", "MRI_UCHAR")),
    (1, "int", "int32", ("int32", "MRI_INT")),
    (2, "long", None, ("MRI_LONG",)),
    (3, "float", "float32", ("float32", "MRI_FLOAT")),
    (4, "short", "int16", ("int16", "MRI_SHORT")),
    (5, "bitmap", None, ("MRI_BITMAP",)),
    (6, "tensor", None, ("MRI_TENSOR",)),
    (10, "ushort", "uint16", ("uint16", "MRI_USHRT")),
)
#: code -> dtype name of the codes voxelio reads and writes
READABLE_TYPES = {code: dtype for code, _, dtype, _ in DATA_TYPES if dtype}
#: the dtypes the format stores, as the FormatSpec declares them
DTYPES = tuple(READABLE_TYPES.values())
