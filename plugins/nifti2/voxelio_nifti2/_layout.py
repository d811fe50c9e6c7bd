"""Facts of the NIfTI-2 format, stated once and without numpy.

The entry module (sniffing), the header and the image read them from here;
what NIfTI-2 shares with NIfTI-1 (file names, data types, the facts NIfTI-1
already states to refuse NIfTI-2 files) is read from
:mod:`voxelio_nifti1._layout`.
The field table is the 540-byte header of the NIfTI-2 standard (nifti2.h):
each row is (name, numpy type code without byte order, shape), in file order.
"""

from __future__ import annotations

from voxelio_nifti1 import _layout as _nifti1

#: NIfTI-2 keeps NIfTI-1's file names: one .nii, or a .hdr/.img pair
SINGLE_EXTENSIONS = _nifti1.SINGLE_EXTENSIONS
SINGLE_FILES_TYPES = _nifti1.SINGLE_FILES_TYPES
PAIR_EXTENSIONS = _nifti1.PAIR_EXTENSIONS
PAIR_FILES_TYPES = _nifti1.PAIR_FILES_TYPES
#: ... and NIfTI-1's data types
DTYPES = _nifti1.DTYPES

#: ``sizeof_hdr`` of every NIfTI-2 header, and its size in bytes (NIfTI-1 knows it too,
#: to refuse NIfTI-2 files)
HEADER_SIZE = _nifti1.NIFTI2_HEADER_SIZE
#: the magic field: four bytes at byte 4 (as on disk, NUL-padded), then ``eol_check``
MAGIC_OFFSET = 4
SINGLE_MAGIC_ON_DISK, PAIR_MAGIC_ON_DISK = _nifti1.NIFTI2_MAGICS
#: the ``magic`` field's value
SINGLE_MAGIC = SINGLE_MAGIC_ON_DISK.rstrip(b"\x00")
PAIR_MAGIC = PAIR_MAGIC_ON_DISK.rstrip(b"\x00")
#: bytes 8-11: CR LF SUB LF, which a text-mode copy would mangle
EOL_CHECK = (13, 10, 26, 10)
#: data offset of a single file without extensions: header + the extension flag
SINGLE_VOX_OFFSET = HEADER_SIZE + _nifti1.EXTENSION_FLAG_SIZE

#: byte offset of ``intent_code`` (int32), for sniffing CIFTI-2 containers
INTENT_CODE_OFFSET = _nifti1.NIFTI2_INTENT_OFFSET
#: intent codes the CIFTI-2 standard reserves
CIFTI_INTENTS = _nifti1.CIFTI_INTENTS
#: extension code of the CIFTI-2 XML
CIFTI_EXTENSION_CODE = 32

#: NIfTI-1, refused with a pointer to voxelio-nifti1: its size, magic place and values
NIFTI1_HEADER_SIZE = _nifti1.HEADER_SIZE
NIFTI1_MAGIC_OFFSET = _nifti1.MAGIC_OFFSET
NIFTI1_MAGICS = (_nifti1.NIFTI1_SINGLE_MAGIC, _nifti1.NIFTI1_PAIR_MAGIC)

FIELDS: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    ("sizeof_hdr", "i4", ()),
    ("magic", "S4", ()),
    ("eol_check", "i1", (4,)),
    ("datatype", "i2", ()),
    ("bitpix", "i2", ()),
    ("dim", "i8", (8,)),
    ("intent_p1", "f8", ()),
    ("intent_p2", "f8", ()),
    ("intent_p3", "f8", ()),
    ("pixdim", "f8", (8,)),
    ("vox_offset", "i8", ()),
    ("scl_slope", "f8", ()),
    ("scl_inter", "f8", ()),
    ("cal_max", "f8", ()),
    ("cal_min", "f8", ()),
    ("slice_duration", "f8", ()),
    ("toffset", "f8", ()),
    ("slice_start", "i8", ()),
    ("slice_end", "i8", ()),
    ("descrip", "S80", ()),
    ("aux_file", "S24", ()),
    ("qform_code", "i4", ()),
    ("sform_code", "i4", ()),
    ("quatern_b", "f8", ()),
    ("quatern_c", "f8", ()),
    ("quatern_d", "f8", ()),
    ("qoffset_x", "f8", ()),
    ("qoffset_y", "f8", ()),
    ("qoffset_z", "f8", ()),
    ("srow_x", "f8", (4,)),
    ("srow_y", "f8", (4,)),
    ("srow_z", "f8", (4,)),
    ("slice_code", "i4", ()),
    ("xyzt_units", "i4", ()),
    ("intent_code", "i4", ()),
    ("intent_name", "S16", ()),
    ("dim_info", "u1", ()),
    ("unused_str", "S15", ()),
)

#: CIFTI-2 intents: (code, label = the intent_name the CIFTI-2 standard gives, macro)
CIFTI_INTENT_TABLE = (
    (3000, "ConnUnknown", "NIFTI_INTENT_CONNECTIVITY_UNKNOWN"),
    (3001, "ConnDense", "NIFTI_INTENT_CONNECTIVITY_DENSE"),
    (3002, "ConnDenseSeries", "NIFTI_INTENT_CONNECTIVITY_DENSE_SERIES"),
    (3003, "ConnParcels", "NIFTI_INTENT_CONNECTIVITY_PARCELLATED"),
    (3004, "ConnParcelSries", "NIFTI_INTENT_CONNECTIVITY_PARCELLATED_SERIES"),
    (3006, "ConnDenseScalar", "NIFTI_INTENT_CONNECTIVITY_DENSE_SCALARS"),
    (3007, "ConnDenseLabel", "NIFTI_INTENT_CONNECTIVITY_DENSE_LABELS"),
    (3008, "ConnParcelScalr", "NIFTI_INTENT_CONNECTIVITY_PARCELLATED_SCALAR"),
    (3009, "ConnParcelDense", "NIFTI_INTENT_CONNECTIVITY_PARCELLATED_DENSE"),
    (3010, "ConnDenseParcel", "NIFTI_INTENT_CONNECTIVITY_DENSE_PARCELLATED"),
    (3011, "ConnPPSr", "NIFTI_INTENT_CONNECTIVITY_PARCELLATED_PARCELLATED_SERIES"),
    (3012, "ConnPPSc", "NIFTI_INTENT_CONNECTIVITY_PARCELLATED_PARCELLATED_SCALAR"),
)
