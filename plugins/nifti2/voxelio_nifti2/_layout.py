"""Facts of the NIfTI-2 format, stated once and without numpy.

The entry module (sniffing), the header and the image read them from here.
The field table is the 540-byte header of the NIfTI-2 standard (nifti2.h):
each row is (name, numpy type code without byte order, shape), in file order.
"""

from __future__ import annotations

#: ``sizeof_hdr`` of every NIfTI-2 header, and its size in bytes
HEADER_SIZE = 540
#: ``sizeof_hdr`` of a NIfTI-1 header (refused with a pointer to voxelio-nifti1)
NIFTI1_HEADER_SIZE = 348
#: where NIfTI-1 keeps its magic
NIFTI1_MAGIC_OFFSET = 344
NIFTI1_MAGICS = (b"n+1\x00", b"ni1\x00")

#: the magic field: four bytes at byte 4, then the four ``eol_check`` bytes
MAGIC_OFFSET = 4
SINGLE_MAGIC = b"n+2"
PAIR_MAGIC = b"ni2"
#: bytes 8-11: CR LF SUB LF, which a text-mode copy would mangle
EOL_CHECK = (13, 10, 26, 10)

#: byte offset of ``intent_code`` (int32), for sniffing CIFTI-2 containers
INTENT_CODE_OFFSET = 504
#: intent codes the CIFTI-2 standard reserves
CIFTI_INTENTS = range(3000, 3100)
#: extension code of the CIFTI-2 XML
CIFTI_EXTENSION_CODE = 32

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

#: numpy names of the data types the format stores (those of NIfTI-1)
DTYPES = (
    "uint8", "int8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
    "float32", "float64", "complex64", "complex128",
    "[('R', 'u1'), ('G', 'u1'), ('B', 'u1')]",
    "[('R', 'u1'), ('G', 'u1'), ('B', 'u1'), ('A', 'u1')]",
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
