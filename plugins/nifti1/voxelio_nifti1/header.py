"""The NIfTI-1 header: Analyze's 348 bytes, redefined, plus extensions.

:class:`Nifti1Header` extends :class:`voxelio_analyze.header.AnalyzeHeader`
(byte-order guess, data type / shape / zoom plumbing, the common checks)
with the NIfTI-1 field layout and code tables, the scaling rules of the
standard, the qform and sform (:mod:`.qsform`), units, intent, dim_info and
slice timing (:mod:`.metadata`), and the extension records that follow the
header (:mod:`.extensions`). :class:`Nifti1PairHeader` is the same header
for a ``.hdr``/``.img`` pair (magic ``ni1``).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Sequence
from typing import Any, BinaryIO, ClassVar

import numpy as np

from voxelio.errors import HeaderDataError, ImageFileError
from voxelio_analyze.header import (
    AnalyzeHeader,
    check_bitpix,
    check_datatype,
    check_pixdims,
    check_sizeof_hdr,
)

from . import checks as _checks
from ._layout import (
    HEADER_SIZE,
    NIFTI2_HEADER_SIZE,
    NIFTI2_MAGICS,
    PAIR_MAGIC,
    SINGLE_MAGIC,
    SINGLE_VOX_OFFSET,
)
from .codes import DATATYPES
from .extensions import Nifti1Extensions, read_bounded
from .metadata import MetadataMixin
from .qsform import XformMixin

MAX_DIM_LENGTH = int(np.iinfo(np.int16).max)
#: FreeSurfer stores the 163842 vertices of an order-7 icosahedron as (27307, 1, 6)
_ICO7 = ((163842, 1, 1), (27307, 1, 6))

header_dtype = np.dtype(
    [
        ("sizeof_hdr", "i4"),
        ("data_type", "S10"),
        ("db_name", "S18"),
        ("extents", "i4"),
        ("session_error", "i2"),
        ("regular", "S1"),
        ("dim_info", "u1"),
        ("dim", "i2", (8,)),
        ("intent_p1", "f4"),
        ("intent_p2", "f4"),
        ("intent_p3", "f4"),
        ("intent_code", "i2"),
        ("datatype", "i2"),
        ("bitpix", "i2"),
        ("slice_start", "i2"),
        ("pixdim", "f4", (8,)),
        ("vox_offset", "f4"),
        ("scl_slope", "f4"),
        ("scl_inter", "f4"),
        ("slice_end", "i2"),
        ("slice_code", "u1"),
        ("xyzt_units", "u1"),
        ("cal_max", "f4"),
        ("cal_min", "f4"),
        ("slice_duration", "f4"),
        ("toffset", "f4"),
        ("glmax", "i4"),
        ("glmin", "i4"),
        ("descrip", "S80"),
        ("aux_file", "S24"),
        ("qform_code", "i2"),
        ("sform_code", "i2"),
        ("quatern_b", "f4"),
        ("quatern_c", "f4"),
        ("quatern_d", "f4"),
        ("qoffset_x", "f4"),
        ("qoffset_y", "f4"),
        ("qoffset_z", "f4"),
        ("srow_x", "f4", (4,)),
        ("srow_y", "f4", (4,)),
        ("srow_z", "f4", (4,)),
        ("intent_name", "S16"),
        ("magic", "S4"),
    ]
)
assert header_dtype.itemsize == HEADER_SIZE


class Nifti1Header(XformMixin, MetadataMixin, AnalyzeHeader):
    """Header of a single-file NIfTI-1 image (``.nii``, magic ``n+1``).

    Parameters
    ----------
    binaryblock : bytes-like, optional
        348 bytes (or more) holding a header; None makes a default header.
    endianness : str, optional
        Byte order of a new header, or of ``binaryblock`` (guessed if None).
    check : bool, optional
        Run the checks, fixing what they can, on a header read from bytes.
    extensions : iterable of Nifti1Extension, optional
        The extension records.

    Attributes
    ----------
    extensions : Nifti1Extensions
        The extension records (a list), written after the header.
    """

    template_dtype: ClassVar[np.dtype] = header_dtype
    data_types = DATATYPES
    field_aliases: ClassVar[dict] = {}
    is_single: ClassVar[bool] = True
    magic: ClassVar[bytes] = SINGLE_MAGIC
    single_magic: ClassVar[bytes] = SINGLE_MAGIC
    pair_magic: ClassVar[bytes] = PAIR_MAGIC
    defaults: ClassVar[dict[str, Any]] = {
        "sizeof_hdr": HEADER_SIZE,
        "dim": [0, 1, 1, 1, 1, 1, 1, 1],
        "pixdim": [1.0] * 8,
        "datatype": 16,
        "bitpix": 32,
        "scl_slope": 1.0,
        "magic": SINGLE_MAGIC,
    }
    checks = (
        check_sizeof_hdr, check_datatype, check_bitpix, _checks.check_dim, check_pixdims,
        _checks.check_qfac, _checks.check_magic, _checks.check_offset,
        _checks.check_qform_code, _checks.check_sform_code, _checks.check_scaling,
    )

    def __init__(
        self,
        binaryblock: bytes | bytearray | memoryview | None = None,
        endianness: str | None = None,
        check: bool = True,
        extensions: Any = (),
    ) -> None:
        self.extensions = Nifti1Extensions(extensions)
        super().__init__(binaryblock, endianness, check)

    @classmethod
    def default_structarr(cls, endianness: str | None = None) -> np.ndarray:
        """Default fields, with this class's magic."""
        arr = super().default_structarr(endianness)
        arr["magic"] = cls.magic
        return arr

    # -- copies and conversion -------------------------------------------------------
    def copy(self) -> Nifti1Header:
        """An independent copy, extensions included."""
        obj = super().copy()
        obj.extensions = self.extensions.copy()
        return obj

    @classmethod
    def from_header(cls, header: Any = None) -> Nifti1Header:
        """A header of this class from another header (or None).

        From another NIfTI-1 header (single or pair) every field and the
        extensions carry over, with this class's magic. From an Analyze
        header the fields the two layouts share (shape, zooms, dtype,
        descrip, aux_file, cal_min/max, data offset) carry over; from any
        other header its dtype, shape and zooms.
        """
        if header is None:
            return cls()
        if type(header) is cls:
            return header.copy()
        if isinstance(header, Nifti1Header):
            obj = cls(header.binaryblock, header.endianness, check=False)
            obj.extensions = header.extensions.copy()
            obj["magic"] = cls.magic
            return obj
        obj = super().from_header(header)
        if isinstance(header, AnalyzeHeader):
            for name in ("descrip", "aux_file", "cal_max", "cal_min"):
                obj[name] = header[name]
        units = getattr(header, "get_xyzt_units", None)
        if units is not None:  # any format that knows its units (MGH: mm and msec)
            # units this table does not know stay 'unknown'
            with contextlib.suppress(HeaderDataError, KeyError, TypeError, ValueError):
                obj.set_xyzt_units(*units())
        return obj

    def __eq__(self, other: object) -> bool:
        same = super().__eq__(other)
        if same is not True:
            return same
        return list(self.extensions) == list(other.extensions)  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]

    # -- reading and writing -----------------------------------------------------------
    @classmethod
    def from_fileobj(
        cls, fileobj: BinaryIO, endianness: str | None = None, check: bool = True
    ) -> Nifti1Header:
        """Read a header and its extensions from the current position of ``fileobj``.

        A single file's extensions fill the bytes up to ``vox_offset``; a
        pair header's run to the end of the ``.hdr`` file.
        """
        block = fileobj.read(HEADER_SIZE)
        _refuse_nifti2(block)
        if len(block) < HEADER_SIZE:
            raise HeaderDataError(
                f"the file holds {len(block)} bytes where a NIfTI-1 header needs {HEADER_SIZE}: "
                "it is truncated or not a NIfTI-1 file"
            )
        hdr = cls(block, endianness, check)
        flag = fileobj.read(4)
        if len(flag) == 4 and flag[0] != 0:
            if hdr.is_single:
                offset = float(hdr["vox_offset"])
                room = int(offset) - SINGLE_VOX_OFFSET if np.isfinite(offset) else 0
                region = read_bounded(fileobj, max(room, 0))
            else:
                region = read_bounded(fileobj, None)
            exts, reports = Nifti1Extensions.from_bytes(region, hdr.endianness)
            hdr.extensions = exts
            hdr.load_reports.extend(reports)
            for report in reports:
                warnings.warn(report.message, UserWarning, stacklevel=2)
        return hdr

    def write_to(self, fileobj: BinaryIO) -> None:
        """Write the header, the extension flag and the extensions.

        A single file always gets the four flag bytes; a pair header gets
        them only when it has extensions (a plain ``.hdr`` is 348 bytes).
        A single file's ``vox_offset`` must leave room for the extensions.
        """
        if self.is_single:
            need = self.minimum_data_offset()
            if 0 < float(self["vox_offset"]) < need:
                raise HeaderDataError(
                    f"vox_offset is {float(self['vox_offset']):g}, but the header and "
                    f"extensions need at least {need} bytes"
                )
        fileobj.write(self.binaryblock)
        if self.extensions:
            fileobj.write(b"\x01\x00\x00\x00")
            self.extensions.write_to(fileobj, self.endianness)
        elif self.is_single:
            fileobj.write(b"\x00\x00\x00\x00")

    def get_data_offset(self) -> int:
        """Byte offset of the data; for a single file at least after header and extensions."""
        offset = super().get_data_offset()
        return max(offset, self.minimum_data_offset()) if self.is_single else offset

    def minimum_data_offset(self) -> int:
        """The smallest valid data offset: after header, flag and extensions (single files)."""
        if not self.is_single:
            return 0
        return SINGLE_VOX_OFFSET + self.extensions.get_sizeondisk()

    # -- data type, shape ------------------------------------------------------------------
    def set_data_dtype(self, dtype: Any) -> None:
        """Set ``datatype`` and ``bitpix`` for a numpy dtype, a label or a code.

        Raises
        ------
        HeaderDataError
            If NIfTI-1 cannot store ``dtype`` (bool, float16, ...); the
            message lists what it can store.
        ValueError
            For the unsized Python ``int`` (say int16, int32 or int64).
        """
        if dtype is int or (isinstance(dtype, str) and dtype.strip().lower() == "int"):
            raise ValueError(
                "Invalid data type 'int': specify a sized integer such as int16, int32 or int64"
            )
        if isinstance(dtype, str) and dtype in DATATYPES:
            entry = DATATYPES.lookup(dtype)
            if entry.value is not None:
                dtype = entry.value
        elif isinstance(dtype, (int, np.integer)) and not isinstance(dtype, bool):
            dtype = DATATYPES.dtype(int(dtype))
        super().set_data_dtype(dtype)

    def get_data_shape(self) -> tuple[int, ...]:
        """Shape of the data (FreeSurfer's encodings of long vectors undone)."""
        dim = self["dim"]
        ndim = int(dim[0])
        if ndim >= 3 and tuple(int(n) for n in dim[1:4]) == (-1, 1, 1):
            length = int(self["glmin"])
            if length <= 0:
                raise HeaderDataError(
                    "dim[1] is -1 (FreeSurfer's long-vector mark) but glmin holds no length"
                )
            return (length, 1, 1, *(int(n) for n in dim[4 : ndim + 1]))
        shape = super().get_data_shape()
        if shape[:3] == _ICO7[1]:
            return _ICO7[0] + shape[3:]
        return shape

    def set_data_shape(self, shape: Sequence[int]) -> None:
        """Set ``dim`` for a shape of up to 7 axes of at most 32767 each.

        FreeSurfer's surface files are the exception: ``(163842, 1, 1, ...)``
        is stored as ``(27307, 1, 6, ...)`` and other ``(N, 1, 1, ...)`` with
        N > 32767 as ``dim[1] = -1`` with N in ``glmin``, as FreeSurfer does.
        """
        shape = tuple(int(n) for n in shape)
        if shape[:3] == _ICO7[0]:
            super().set_data_shape(_ICO7[1] + shape[3:])
            return
        if len(shape) >= 3 and shape[0] > MAX_DIM_LENGTH and shape[1:3] == (1, 1):
            if shape[0] > np.iinfo(np.int32).max:
                raise HeaderDataError(f"vector length {shape[0]} does not fit NIfTI-1")
            super().set_data_shape((1, *shape[1:]))
            dim = self["dim"].copy()
            dim[1] = -1
            self["dim"] = dim
            self["glmin"] = shape[0]
            return
        super().set_data_shape(shape)

    # -- scaling -----------------------------------------------------------------------------
    def get_slope_inter(self) -> tuple[float | None, float | None]:
        """``(scl_slope, scl_inter)``, or ``(None, None)`` when the data are not scaled.

        A slope of 0 or a non-finite slope means no scaling; the intercept
        is then ignored. A valid slope with a non-finite intercept reads
        the intercept as 0 (the load checks report it).
        """
        slope = float(self["scl_slope"])
        if slope == 0 or not np.isfinite(slope):
            return None, None
        inter = float(self["scl_inter"])
        return slope, inter if np.isfinite(inter) else 0.0

    def set_slope_inter(self, slope: float | None, inter: float | None = None) -> None:
        """Set ``scl_slope`` and ``scl_inter``; None (or NaN for both) means "not set".

        Raises
        ------
        HeaderDataError
            For a slope of 0 or infinity, an infinite intercept, or exactly
            one of the two being None/NaN.
        """
        slope = np.nan if slope is None else float(slope)
        inter = np.nan if inter is None else float(inter)
        if slope in (0.0, np.inf, -np.inf):
            raise HeaderDataError(f"scale slope cannot be 0 or infinite, got {slope}")
        if inter in (np.inf, -np.inf):
            raise HeaderDataError(f"intercept cannot be infinite, got {inter}")
        if np.isnan(slope) != np.isnan(inter):
            raise HeaderDataError("set both or neither of slope and intercept (None or NaN)")
        self["scl_slope"] = slope
        self["scl_inter"] = inter


class Nifti1PairHeader(Nifti1Header):
    """Header of a NIfTI-1 pair (``.hdr`` + ``.img``, magic ``ni1``)."""

    is_single: ClassVar[bool] = False
    magic: ClassVar[bytes] = PAIR_MAGIC
    defaults: ClassVar[dict[str, Any]] = {**Nifti1Header.defaults, "magic": PAIR_MAGIC}


def _refuse_nifti2(block: bytes) -> None:
    """NIfTI-2 (540-byte header, magic n+2/ni2 at byte 4) is another format: say so."""
    if len(block) < 8 or block[4:8] not in NIFTI2_MAGICS:
        return
    sizes = (int.from_bytes(block[:4], "little"), int.from_bytes(block[:4], "big"))
    if NIFTI2_HEADER_SIZE in sizes:
        raise ImageFileError(
            f"this is a NIfTI-2 file ({NIFTI2_HEADER_SIZE}-byte header, magic "
            f"{block[4:7].decode()!r}), not NIfTI-1; voxelio-nifti1 reads NIfTI-1 only "
            "(a NIfTI-2 plugin is needed)"
        )
