"""The NIfTI-1 header: Analyze's 348 bytes, redefined, plus extensions.

:class:`Nifti1Header` extends :class:`voxelio_analyze.header.AnalyzeHeader`
(byte-order guess, data type / shape / zoom plumbing, the common checks)
with the NIfTI-1 field layout and code tables, the scaling rules of the
standard, the qform and sform (:mod:`.qsform`), units, intent, dim_info and
slice timing (:mod:`.metadata`), and the extension records that follow the
header (:mod:`.extensions`). :class:`Nifti1PairHeader` is the same header
for a ``.hdr``/``.img`` pair (magic ``ni1``).

What differs between NIfTI versions is a class attribute: the field layout
(``template_dtype``), ``header_size``, the magic strings, ``format_label``,
the intent table, whether FreeSurfer's long-vector shapes are encoded, and
:meth:`Nifti1Header._refuse_other_version`. voxelio-nifti2 subclasses this
header with the 540-byte layout and reuses everything else.
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Sequence
from typing import Any, BinaryIO, ClassVar

import numpy as np

from voxelio.plugin import NATIVE, CodeTable, HeaderDataError, ImageFileError, LazyMember
from voxelio_analyze.header import (
    AnalyzeHeader,
    check_bitpix,
    check_datatype,
    check_pixdims,
    check_sizeof_hdr,
)

from . import checks as _checks
from ._layout import (
    EXTENSION_FLAG_SIZE,
    HEADER_SIZE,
    NIFTI2_HEADER_SIZE,
    NIFTI2_MAGICS,
    PAIR_MAGIC,
    SINGLE_MAGIC,
)
from .codes import DATATYPES, INTENT_CODES, SLICE_ORDER_CODES, XFORM_CODES
from .qsform import XformMixin

#: FreeSurfer stores the 163842 vertices of an order-7 icosahedron as (27307, 1, 6)
_ICO7 = ((163842, 1, 1), (27307, 1, 6))

header_dtype = np.dtype(
    [
        # Analyze's header_key, unchanged but for its last byte (hkey_un0)
        *AnalyzeHeader.template_dtype.descr[:6],
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


def _metadata(name: str) -> LazyMember:
    return LazyMember(f"voxelio_nifti1.metadata:MetadataMixin.{name}")


def _conversion(name: str) -> LazyMember:
    return LazyMember(f"voxelio_nifti1.conversion:ConversionMixin.{name}")


class Nifti1Header(XformMixin, AnalyzeHeader):
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
    #: the intent codes this header names (NIfTI-2 adds CIFTI-2's)
    intent_codes: ClassVar[CodeTable] = INTENT_CODES
    field_aliases: ClassVar[dict] = {}
    #: the name used in messages
    format_label: ClassVar[str] = "NIfTI-1"
    #: FreeSurfer's encodings of long vectors in int16 dims (see set_data_shape)
    encodes_long_vectors: ClassVar[bool] = True
    #: advice for shapes and values this layout cannot hold
    larger_format_hint: ClassVar[str] = (
        "NIfTI-2 holds it: save with format='nifti2' (or 'nifti2-pair'), "
        "from the voxelio-nifti2 plugin"
    )
    has_data_slope: ClassVar[bool] = True
    has_data_intercept: ClassVar[bool] = True
    coded_fields: ClassVar[dict[str, CodeTable]] = {
        "datatype": DATATYPES,
        "qform_code": XFORM_CODES,
        "sform_code": XFORM_CODES,
        "intent_code": INTENT_CODES,
        "slice_code": SLICE_ORDER_CODES,
    }
    is_single: ClassVar[bool] = True
    magic: ClassVar[bytes] = SINGLE_MAGIC
    single_magic: ClassVar[bytes] = SINGLE_MAGIC
    pair_magic: ClassVar[bytes] = PAIR_MAGIC
    defaults: ClassVar[dict[str, Any]] = {
        **AnalyzeHeader.defaults,
        "scl_slope": 1.0,
        "magic": SINGLE_MAGIC,
    }
    checks = (
        check_sizeof_hdr, check_datatype, check_bitpix, _checks.check_dim, check_pixdims,
        _checks.check_qfac, _checks.check_magic, _checks.check_offset,
        _checks.check_scl_inter, _checks.check_qform_code, _checks.check_sform_code,
    )

    # units, intent, dim_info, slice timing (voxelio_nifti1.metadata) and conversions to
    # and from other formats (voxelio_nifti1.conversion): their mixins' methods, imported
    # on first use (a load asks none of them)
    get_xyzt_units = _metadata("get_xyzt_units")
    set_xyzt_units = _metadata("set_xyzt_units")
    get_dim_info = _metadata("get_dim_info")
    set_dim_info = _metadata("set_dim_info")
    get_intent = _metadata("get_intent")
    set_intent = _metadata("set_intent")
    _slice_axis = _metadata("_slice_axis")
    get_n_slices = _metadata("get_n_slices")
    get_slice_duration = _metadata("get_slice_duration")
    set_slice_duration = _metadata("set_slice_duration")
    get_slice_times = _metadata("get_slice_times")
    set_slice_times = _metadata("set_slice_times")
    get_world_space = _conversion("get_world_space")
    conversion_losses = _conversion("conversion_losses")
    _space_losses = _conversion("_space_losses")

    def reorient_fields(self, ornt: np.ndarray, voxel_transform: np.ndarray) -> None:
        """Move qform and sform (see XformMixin) and dim_info and the slice order
        (:func:`voxelio_nifti1.metadata.reorient_metadata`) with the voxel axes."""
        super().reorient_fields(ornt, voxel_transform)
        from .metadata import reorient_metadata

        reorient_metadata(self, ornt)

    def __init__(
        self,
        binaryblock: bytes | bytearray | memoryview | None = None,
        endianness: str | None = None,
        check: bool = True,
        extensions: Any = (),
    ) -> None:
        if extensions:
            from .extensions import Nifti1Extensions

            self.extensions = Nifti1Extensions(extensions)
        super().__init__(binaryblock, endianness, check)

    @property
    def extensions(self) -> Any:
        """The extension records (a :class:`~voxelio_nifti1.extensions.Nifti1Extensions`)."""
        try:
            return self.__dict__["_extensions"]
        except KeyError:
            # made on first use: most files have none, and loading them then
            # never imports the extension code
            from .extensions import Nifti1Extensions

            made = self.__dict__["_extensions"] = Nifti1Extensions()
            return made

    @extensions.setter
    def extensions(self, value: Any) -> None:
        self.__dict__["_extensions"] = value

    @classmethod
    def default_structarr(cls, endianness: str | None = None) -> np.ndarray:
        """Default fields, with this class's magic."""
        arr = super().default_structarr(endianness)
        arr["magic"] = cls.magic
        return arr

    @classmethod
    def single_vox_offset(cls) -> int:
        """Data offset of a single file without extensions: header + 4 flag bytes."""
        return cls.header_size + EXTENSION_FLAG_SIZE

    # -- copies and conversion -------------------------------------------------------
    def copy(self) -> Nifti1Header:
        """An independent copy, extensions included."""
        obj = super().copy()
        obj.extensions = self.extensions.copy()
        return obj

    @classmethod
    def from_header(cls, header: Any = None, check: bool = True) -> Nifti1Header:
        """A header of this class from another header (or None).

        From another NIfTI header (single or pair, NIfTI-1 or NIfTI-2) every
        field both layouts have and the extensions carry over, with this
        class's magic. From an Analyze header the fields the two layouts
        share (shape, zooms, dtype, descrip, aux_file, cal_min/max, data
        offset) carry over; from any other header its dtype, shape and zooms.

        Raises
        ------
        HeaderDataError
            If a value (a length of the shape, a code...) does not fit this
            layout's field; the message says which format would hold it.

        ``check`` runs :meth:`check_fix` on a copy of a header of this class.
        """
        if header is None:
            return cls()
        if isinstance(header, Nifti1Header):
            if header.template_dtype == cls.template_dtype:
                obj = cls(header.binaryblock, header.endianness, check=False)
            else:
                obj = cls(endianness=header.endianness)
                obj._copy_fields_from(header)
            obj.extensions = header.extensions.copy()
            obj.load_reports = list(header.load_reports)
            obj["magic"] = cls.magic
            if check and type(header) is cls:
                obj.check_fix()
            return obj
        obj = super().from_header(header, check)
        obj["magic"] = cls.magic  # whatever an Analyze-like mapping said
        if isinstance(header, AnalyzeHeader):
            for name in ("descrip", "aux_file", "cal_max", "cal_min"):
                obj[name] = header[name]
        # units (time in seconds) and the world space the other format names
        from .conversion import adopt_foreign

        adopt_foreign(obj, header)
        return obj

    def _copy_fields_from(self, other: Nifti1Header) -> None:
        """Copy every field of another NIfTI layout that this one has, checking it fits."""
        fixed = ("sizeof_hdr", "magic", "dim")
        for name in self.keys():
            if name in fixed or name not in other.template_dtype.names:
                continue
            self[name] = _fitted(other[name], self[name].dtype, name, self)
        shape = other.get_data_shape()
        ndim = int(other["dim"][0])
        if ndim and shape != tuple(int(n) for n in other["dim"][1 : ndim + 1]):
            self.set_data_shape(shape)  # an encoded shape (FreeSurfer's) is re-encoded
        elif max((int(n) for n in other["dim"][1:]), default=0) > self.max_dim_length():
            self.set_data_shape(shape)  # may encode it, else says what holds it
        else:
            self["dim"] = other["dim"]

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
        size, label = cls.header_size, cls.format_label
        base = _tell(fileobj)
        block = fileobj.read(size)
        cls._refuse_other_version(block)
        if len(block) < size:
            raise HeaderDataError(
                f"the file holds {len(block)} bytes where a {label} header needs {size}: "
                f"it is truncated or not a {label} file"
            )
        hdr = cls(block, endianness, check=False)
        # the checks may mend vox_offset; where the extensions end is the file's own value
        stored_offset = float(hdr["vox_offset"])
        if check:
            hdr.load_reports = hdr.check_fix()
        flag = fileobj.read(EXTENSION_FLAG_SIZE)
        if len(flag) == EXTENSION_FLAG_SIZE and flag[0] != 0:
            start = cls.single_vox_offset()
            room = _extension_room(stored_offset, start) if hdr.is_single else None
            from .extensions import Nifti1Extensions

            found = Nifti1Extensions.from_fileobj(fileobj, room, hdr.endianness, start)
            if room is not None:
                _refuse_offset_past_end(fileobj, base, stored_offset, found.ended)
            hdr.extensions = found.extensions
            hdr.load_reports.extend(found.reports)
            for report in found.reports:
                warnings.warn(report.message, UserWarning, stacklevel=2)
        return hdr

    def write_to(self, fileobj: BinaryIO) -> None:
        """Write the header, the extension flag and the extensions.

        A single file always gets the four flag bytes; a pair header gets
        them only when it has extensions (a plain ``.hdr`` is 348 bytes).
        A single file's ``vox_offset`` must leave room for the extensions;
        one that is not set yet (0) is written as just after them (this
        header keeps its 0).
        """
        if self.is_single:
            need = self.minimum_data_offset()
            if 0 < float(self["vox_offset"]) < need:
                raise HeaderDataError(
                    f"vox_offset is {float(self['vox_offset']):g}, but the header and "
                    f"extensions need at least {need} bytes"
                )
        block = self.binaryblock
        if self.is_single and self.extensions and float(self["vox_offset"]) == 0:
            # readers need vox_offset to find where the extensions end
            placed = self.copy()
            placed["vox_offset"] = self.minimum_data_offset()
            block = placed.binaryblock
        fileobj.write(block)
        if self.extensions:
            fileobj.write(b"\x01\x00\x00\x00")
            self.extensions.write_to(fileobj, self.endianness)
        elif self.is_single:
            fileobj.write(b"\x00\x00\x00\x00")

    # -- the NiBabel bridge (voxelio.integrations.nibabel) ---------------------------------
    def to_nibabel_header(self, nib_header_class: Any, extra: dict[str, Any]) -> Any:
        """NiBabel's header with these 348 bytes and these extensions (parsed by NiBabel)."""
        nib_header = nib_header_class(binaryblock=bytes(self.binaryblock), check=False)
        if self.extensions:
            raw = self.extensions.to_bytes(self.endianness)
            swapped = self.endianness != NATIVE
            nib_header.extensions = type(nib_header.extensions).from_fileobj(
                io.BytesIO(raw), len(raw), swapped
            )
        return nib_header

    @classmethod
    def from_nibabel_header(cls, nib_header: Any, extra: dict[str, Any]) -> Nifti1Header:
        """A header with the bytes and extensions of a NiBabel NIfTI-1 header."""
        hdr = cls(bytes(nib_header.binaryblock), check=False)
        extensions = getattr(nib_header, "extensions", None)
        if extensions:
            raw = io.BytesIO()
            extensions.write_to(raw, hdr.endianness != NATIVE)
            from .extensions import Nifti1Extensions

            hdr.extensions, _ = Nifti1Extensions.from_bytes(raw.getvalue(), hdr.endianness)
        return hdr

    def get_data_offset(self) -> int:
        """``vox_offset``: where the data start, or 0 while it is not set.

        A new header, and the header of an image (whose proxy holds where its
        data were read from), say 0; saving a single file puts the data right
        after the header and its extensions (:meth:`data_start`).
        """
        return super().get_data_offset()

    def data_start(self) -> int:
        """Where the data of a file with this header start.

        ``vox_offset`` when set; for a single file whose ``vox_offset`` is
        0 (unset), right after the header and its extensions. A set
        ``vox_offset`` is the truth even when the extension records before
        it do not add up to it (records of sizes that are not multiples of
        16, padding, other bytes).
        """
        return self.get_data_offset() or self.minimum_data_offset()

    def minimum_data_offset(self) -> int:
        """The smallest valid data offset: after header, flag and extensions (single files)."""
        if not self.is_single:
            return 0
        return self.single_vox_offset() + self.extensions.get_sizeondisk()

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
        if not self.encodes_long_vectors:
            return super().get_data_shape()
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

        Raises
        ------
        HeaderDataError
            For a length this layout cannot hold (the message names NIfTI-2).
        """
        shape = tuple(int(n) for n in shape)
        if self.encodes_long_vectors and self._set_long_vector(shape):
            return
        try:
            super().set_data_shape(shape)
        except HeaderDataError as err:
            if len(shape) > 7 or max(shape, default=0) <= self.max_dim_length():
                raise
            raise HeaderDataError(
                f"{err} in {self.format_label}; {self.larger_format_hint}"
            ) from None

    def _set_long_vector(self, shape: tuple[int, ...]) -> bool:
        """Store FreeSurfer's encodings of a long (N, 1, 1, ...) vector; False if not one."""
        if shape[:3] == _ICO7[0]:
            super().set_data_shape(_ICO7[1] + shape[3:])
            return True
        if len(shape) >= 3 and shape[0] > self.max_dim_length() and shape[1:3] == (1, 1):
            if shape[0] > np.iinfo(np.int32).max:
                raise HeaderDataError(
                    f"vector length {shape[0]} does not fit {self.format_label}; "
                    f"{self.larger_format_hint}"
                )
            super().set_data_shape((1, *shape[1:]))
            dim = self["dim"].copy()
            dim[1] = -1
            self["dim"] = dim
            self["glmin"] = shape[0]
            return True
        return False

    # -- scaling -----------------------------------------------------------------------------
    def get_slope_inter(self) -> tuple[float | None, float | None]:
        """``(scl_slope, scl_inter)``, or ``(None, None)`` when the data are not scaled.

        A slope of 0 or a non-finite slope means no scaling; the intercept
        is then ignored. A valid slope with a non-finite intercept reads
        the intercept as 0 (the ``scl_inter`` check reports it on load).
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

    @classmethod
    def _refuse_other_version(cls, block: bytes) -> None:
        """Raise ImageFileError naming NIfTI-2 for a NIfTI-2 block (540 bytes, n+2/ni2 at 4)."""
        if len(block) < 8 or block[4:8] not in NIFTI2_MAGICS:
            return
        sizes = (int.from_bytes(block[:4], "little"), int.from_bytes(block[:4], "big"))
        if NIFTI2_HEADER_SIZE in sizes:
            raise ImageFileError(
                f"this is a NIfTI-2 file ({NIFTI2_HEADER_SIZE}-byte header, magic "
                f"{block[4:7].decode()!r}), not NIfTI-1; voxelio-nifti1 reads NIfTI-1 only "
                "(a NIfTI-2 plugin is needed)"
            )


class Nifti1PairHeader(Nifti1Header):
    """Header of a NIfTI-1 pair (``.hdr`` + ``.img``, magic ``ni1``)."""

    is_single: ClassVar[bool] = False
    magic: ClassVar[bytes] = PAIR_MAGIC
    defaults: ClassVar[dict[str, Any]] = {**Nifti1Header.defaults, "magic": PAIR_MAGIC}


def _extension_room(vox_offset: float, start: int) -> int:
    """Bytes between the flag and the data of a single file with extensions.

    Raises
    ------
    HeaderDataError
        When ``vox_offset`` cannot say where the extensions end and the data
        start: not a number, infinite, negative, not set (0) or inside the
        header.
    """
    if not math.isfinite(vox_offset) or vox_offset < start:
        raise HeaderDataError(
            f"the extension flag is set but vox_offset is {vox_offset:g}: with extensions the "
            f"data offset must be a byte position of at least {start}, else "
            "nothing says where the extensions end and the data start"
        )
    return int(vox_offset) - start


def _refuse_offset_past_end(fileobj: BinaryIO, base: int, vox_offset: float, ended: bool) -> None:
    """A single file with extensions must reach ``vox_offset``, else its data are not there.

    ``ended`` says the extensions already ran into the end of the stream.
    Otherwise the byte before ``vox_offset`` is probed (through
    decompression, which the data read needs anyway); a stream that
    cannot seek is left to the data read to report.
    """
    offset = int(vox_offset)
    if not ended and offset >= 2**63:  # no stream can seek there (float32 reaches 3.4e38)
        ended = True
    if not ended:
        try:
            here = fileobj.tell()
            if base + offset - 1 < here:
                return
            fileobj.seek(base + offset - 1)
            ended = not fileobj.read(1)
            fileobj.seek(here)
        except (AttributeError, OSError, ValueError, OverflowError):
            return
    if ended:
        raise HeaderDataError(
            f"vox_offset {offset} lies beyond the end of the file: the file is truncated or "
            "its header is corrupt"
        )


def _tell(fileobj: BinaryIO) -> int:
    try:
        return int(fileobj.tell())
    except (AttributeError, OSError, ValueError):
        return 0


def _fitted(value: np.ndarray, dtype: np.dtype, name: str, target: Nifti1Header) -> np.ndarray:
    """``value`` converted to a field's ``dtype``, or HeaderDataError if it does not fit."""
    value = np.asarray(value)
    kind = np.dtype(dtype).base.kind
    if kind in "iu" and value.dtype.kind in "iuf":
        # NIfTI-1's float vox_offset becomes NIfTI-2's int64: it must be a whole number
        info = np.iinfo(np.dtype(dtype).base)
        with np.errstate(invalid="ignore"):
            whole = True
            if value.dtype.kind == "f":
                whole = np.isfinite(value) & (value == np.round(value))
            fits = bool(np.all(whole & (value >= info.min) & (value <= info.max)))
        converted = value.astype(np.dtype(dtype).base) if fits else None
    elif kind == "f" and value.dtype.kind == "f":
        with np.errstate(over="ignore", invalid="ignore"):
            converted = value.astype(np.dtype(dtype).base)
        fits = bool(np.all(np.isfinite(converted) | ~np.isfinite(value)))
    else:
        return value
    if not fits:
        raise HeaderDataError(
            f"{name} = {value.tolist()} does not fit the {np.dtype(dtype).base} field of a "
            f"{target.format_label} header; {target.larger_format_hint}"
        )
    return converted
