"""The facts of the NIfTI-1 formats, stated once, as plain data (no numpy).

The entry module (:mod:`voxelio_nifti1.plugin`: the two FormatSpecs), the
sniffers (:mod:`voxelio_nifti1.sniffing`), the header, its checks and the
images all read them from here; the conformance kit checks that each spec
and its image class agree.
What NIfTI-1 shares with Analyze 7.5 (the 348-byte layout, the place and
values of the magic, the pair's file names) is read from
:mod:`voxelio_analyze._layout`.
"""

from __future__ import annotations

from voxelio.plugin import RGB_DTYPE, RGBA_DTYPE
from voxelio_analyze import _layout as _analyze

#: the pair: Analyze's two files
PAIR_EXTENSIONS = _analyze.EXTENSIONS
PAIR_FILES_TYPES = _analyze.FILES_TYPES
#: Analyze's 348-byte layout, with the magic at byte 344
HEADER_SIZE = _analyze.HEADER_SIZE
MAGIC_OFFSET = _analyze.MAGIC_OFFSET
#: the magic as it stands on disk (NUL-padded)
NIFTI1_SINGLE_MAGIC = _analyze.NIFTI1_SINGLE_MAGIC
NIFTI1_PAIR_MAGIC = _analyze.NIFTI1_PAIR_MAGIC

#: the single file: header, extensions, then the data
SINGLE_EXTENSIONS = (".nii",)
SINGLE_FILES_TYPES = (("image", ".nii"),)

#: the ``magic`` field's value (a 4-byte field: on disk it is NUL-padded)
SINGLE_MAGIC = NIFTI1_SINGLE_MAGIC.rstrip(b"\x00")
PAIR_MAGIC = NIFTI1_PAIR_MAGIC.rstrip(b"\x00")
#: the bytes after the header whose first byte flags extensions
EXTENSION_FLAG_SIZE = 4
#: data offset of a single file without extensions: header + the extension flag
SINGLE_VOX_OFFSET = HEADER_SIZE + EXTENSION_FLAG_SIZE

#: NIfTI-2, another format sharing ``.nii``: its ``sizeof_hdr`` and magic (at byte 4)
NIFTI2_HEADER_SIZE = 540
NIFTI2_MAGICS = (b"n+2\x00", b"ni2\x00")
#: where NIfTI-2 keeps its int32 intent code; codes 3000-3099 make it a CIFTI-2 file
NIFTI2_INTENT_OFFSET = 504
CIFTI_INTENTS = range(3000, 3100)

#: NIfTI-1 data type codes (nifti1.h): (code, label, numpy dtype or None, aliases)
DATA_TYPES = (
    (0, "none", None, ()),
    (1, "binary", None, ()),
    (2, "uint8", "uint8", ("NIFTI_TYPE_UINT8", "u1", "mask")),
    (4, "int16", "int16", ("NIFTI_TYPE_INT16", "i2")),
    (8, "int32", "int32", ("NIFTI_TYPE_INT32", "i4")),
    (16, "float32", "float32", ("NIFTI_TYPE_FLOAT32", "f4")),
    (32, "complex64", "complex64", ("NIFTI_TYPE_COMPLEX64", "c8")),
    (64, "float64", "float64", ("NIFTI_TYPE_FLOAT64", "f8")),
    (128, "RGB", RGB_DTYPE, ("NIFTI_TYPE_RGB24", "rgb24")),
    (255, "all", None, ()),
    (256, "int8", "int8", ("NIFTI_TYPE_INT8", "i1")),
    (512, "uint16", "uint16", ("NIFTI_TYPE_UINT16", "u2")),
    (768, "uint32", "uint32", ("NIFTI_TYPE_UINT32", "u4")),
    (1024, "int64", "int64", ("NIFTI_TYPE_INT64", "i8")),
    (1280, "uint64", "uint64", ("NIFTI_TYPE_UINT64", "u8")),
    (1536, "float128", "float128", ("NIFTI_TYPE_FLOAT128",)),
    (1792, "complex128", "complex128", ("NIFTI_TYPE_COMPLEX128", "c16")),
    (2048, "complex256", "complex256", ("NIFTI_TYPE_COMPLEX256",)),
    (2304, "RGBA", RGBA_DTYPE, ("NIFTI_TYPE_RGBA32", "rgba32")),
)
#: IEEE binary128 types: numpy holds them on some platforms only (see codes.py)
PLATFORM_DTYPES = ("float128", "complex256")
#: the dtypes both formats store everywhere, as their FormatSpecs declare them
DTYPES = tuple(
    dtype for _, _, dtype, _ in DATA_TYPES if dtype and dtype not in PLATFORM_DTYPES
)
