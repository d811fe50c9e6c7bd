"""The facts of the Analyze 7.5 format, stated once, as plain data (no numpy).

The entry module (:mod:`voxelio_analyze.plugin`: the FormatSpec), the
sniffer (:mod:`voxelio_analyze.sniffing`), the header and the image all read
them from here; the
conformance kit checks that the spec and the image class agree. NIfTI-1
(voxelio-nifti1) keeps this layout and reads the shared facts from here
too.
"""

from __future__ import annotations

from voxelio.plugin import RGB_DTYPE

#: a pair: the data file and the header file
EXTENSIONS = (".img", ".hdr")
FILES_TYPES = (("image", ".img"), ("header", ".hdr"))
#: the file whose leading bytes tell the format
SNIFF_FILE_TYPE = "header"

#: the value of ``sizeof_hdr`` (the first int32) in every Analyze 7.5 header
HEADER_SIZE = 348
#: byte offset of ``dim``, eight int16 (``dim[0]`` is the number of axes)
DIM_OFFSET = 40
#: most axes ``dim[0]`` may give
MAX_NDIM = 7
#: where NIfTI-1, which extends this layout, keeps its four magic bytes
MAGIC_OFFSET = 344
#: the magic of a NIfTI-1 pair header and of a single NIfTI-1 file (NUL-padded)
NIFTI1_PAIR_MAGIC = b"ni1\x00"
NIFTI1_SINGLE_MAGIC = b"n+1\x00"

#: Analyze 7.5 data type codes: (code, label, numpy dtype or None, aliases)
DATA_TYPES = (
    (0, "none", None, ()),
    (1, "binary", None, ()),
    (2, "uint8", "uint8", ("unsigned char",)),
    (4, "int16", "int16", ("signed short",)),
    (8, "int32", "int32", ("signed int",)),
    (16, "float32", "float32", ("float",)),
    (32, "complex64", "complex64", ("complex",)),
    (64, "float64", "float64", ("double",)),
    (128, "RGB", RGB_DTYPE, ("rgb",)),
    (255, "all", None, ()),
)
#: the dtypes the format stores, as the FormatSpec declares them
DTYPES = tuple(dtype for _, _, dtype, _ in DATA_TYPES if dtype)
