"""The Analyze 7.5 header: 348 bytes, either byte order, SPM conventions.

:class:`AnalyzeHeader` is written to be extended: NIfTI-1 shares the first
348 bytes' layout, the byte-order guess, a subset of the data type codes and
the sanity checks. What a subclass may change is a class attribute or a
small method:

``template_dtype``
    The field layout (NIfTI-1 renames and splits fields).
``data_types``
    The :class:`~voxelio.codes.DtypeTable` of data type codes.
``header_size``
    The value ``sizeof_hdr`` must hold (348).
``checks``
    The check functions run on load; :data:`COMMON_CHECKS` are the ones that
    hold for NIfTI-1 too.
``field_aliases``
    Extra names for byte ranges (SPM's ``scl_slope``, ``scl_inter`` and
    ``origin``); a subclass whose layout has real fields of those names
    sets it to ``{}``.
``default_x_flip``
    Whether the default affine flips the first axis (radiological).

Scaling and origin follow SPM2 as NiBabel's default reader does (see the
plugin README): ``funused1`` is a scale factor, ``funused2`` an intercept,
``originator`` holds five int16 "origin" voxel coordinates (1-based).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, BinaryIO, ClassVar

import numpy as np

from voxelio.plugin import (
    NATIVE,
    SWAPPED,
    ArrayProxy,
    CodeTable,
    DtypeTable,
    HeaderDataError,
    HeaderTypeError,
    StructHeader,
    WriterError,
)

from . import _layout
from ._layout import HEADER_SIZE
from .checks import (
    COMMON_CHECKS,
    MAX_NDIM,
    check_bitpix,
    check_datatype,
    check_dims,
    check_origin,
    check_pixdims,
    check_sizeof_hdr,
    check_vox_offset,
)

#: ``dim`` entries are int16
MAX_DIM_LENGTH = np.iinfo(np.int16).max

header_dtype = np.dtype(
    [
        # header_key substructure
        ("sizeof_hdr", "i4"),
        ("data_type", "S10"),
        ("db_name", "S18"),
        ("extents", "i4"),
        ("session_error", "i2"),
        ("regular", "S1"),
        ("hkey_un0", "S1"),
        # image_dimension substructure
        ("dim", "i2", (8,)),
        ("vox_units", "S4"),
        ("cal_units", "S8"),
        ("unused1", "i2"),
        ("datatype", "i2"),
        ("bitpix", "i2"),
        ("dim_un0", "i2"),
        ("pixdim", "f4", (8,)),
        ("vox_offset", "f4"),
        ("funused1", "f4"),
        ("funused2", "f4"),
        ("funused3", "f4"),
        ("cal_max", "f4"),
        ("cal_min", "f4"),
        ("compressed", "i4"),
        ("verified", "i4"),
        ("glmax", "i4"),
        ("glmin", "i4"),
        # data_history substructure
        ("descrip", "S80"),
        ("aux_file", "S24"),
        ("orient", "S1"),
        ("originator", "S10"),
        ("generated", "S10"),
        ("scannum", "S10"),
        ("patient_id", "S10"),
        ("exp_date", "S10"),
        ("exp_time", "S10"),
        ("hist_un0", "S3"),
        ("views", "i4"),
        ("vols_added", "i4"),
        ("start_field", "i4"),
        ("field_skip", "i4"),
        ("omax", "i4"),
        ("omin", "i4"),
        ("smax", "i4"),
        ("smin", "i4"),
    ]
)
assert header_dtype.itemsize == HEADER_SIZE

#: Analyze 7.5 data type codes; value None marks codes numpy cannot hold here
DATA_TYPES = DtypeTable.from_rows("Analyze data type", _layout.DATA_TYPES)


class AnalyzeHeader(StructHeader):
    """Header of an Analyze 7.5 image (the ``.hdr`` file of a pair).

    Parameters
    ----------
    binaryblock : bytes-like, optional
        348 bytes (or more) holding a header; None makes a default header.
    endianness : str, optional
        Byte order of a new header, or the byte order to read
        ``binaryblock`` with; guessed from ``dim[0]`` and ``sizeof_hdr``
        when None.
    check : bool, optional
        Run the checks, fixing what they can, on a header read from bytes;
        raises HeaderDataError when a serious problem remains.

    Notes
    -----
    Besides its own fields, the header answers to the SPM names
    ``scl_slope`` (``funused1``), ``scl_inter`` (``funused2``) and ``origin``
    (the ten bytes of ``originator`` as five int16), see ``field_aliases``.
    """

    template_dtype: ClassVar[np.dtype] = header_dtype
    data_types: ClassVar[DtypeTable] = DATA_TYPES
    header_size: ClassVar[int] = HEADER_SIZE
    default_x_flip: ClassVar[bool] = True
    #: SPM's scale factor (``funused1``) is read and written; no intercept is written
    has_data_slope: ClassVar[bool] = True
    has_data_intercept: ClassVar[bool] = False
    coded_fields: ClassVar[Mapping[str, CodeTable]] = {"datatype": DATA_TYPES}
    #: alias name -> (byte offset, dtype, shape) of a view into the header
    field_aliases: ClassVar[Mapping[str, tuple[int, str, tuple[int, ...]]]] = {
        "scl_slope": (112, "f4", ()),
        "scl_inter": (116, "f4", ()),
        "origin": (253, "i2", (5,)),
    }
    defaults: ClassVar[Mapping[str, Any]] = {
        "sizeof_hdr": HEADER_SIZE,
        "dim": [0, 1, 1, 1, 1, 1, 1, 1],
        "pixdim": [1.0] * 8,
        "datatype": 16,
        "bitpix": 32,
    }
    checks = (*COMMON_CHECKS, check_vox_offset, check_origin)

    # -- byte order -----------------------------------------------------------------
    @classmethod
    def guessed_endian(cls, binaryblock: bytes) -> str:
        """Byte order of a header block, judged from ``dim[0]`` and ``sizeof_hdr``.

        ``dim[0]`` between 1 and 7 read natively means native order. A zero
        ``dim[0]`` (no help) means swapped only if ``sizeof_hdr`` reads as
        the header size when swapped. Anything else means swapped.
        """
        block = bytes(binaryblock)
        # where ``dim`` lies and its integer type come from the layout, so that
        # layouts with wider dims (NIfTI-2's int64 at byte 16) are judged alike
        dim_type, dim_offset = cls.template_dtype.fields["dim"][:2]
        item = dim_type.base
        if len(block) < dim_offset + item.itemsize:
            return NATIVE
        dim0 = int(np.frombuffer(block, NATIVE + item.str[1:], 1, dim_offset)[0])
        if 1 <= dim0 <= MAX_NDIM:
            return NATIVE
        if dim0 == 0:
            swapped_size = int(np.frombuffer(block[:4], dtype=SWAPPED + "i4")[0])
            return SWAPPED if swapped_size == cls.header_size else NATIVE
        return SWAPPED

    # -- data type ----------------------------------------------------------------------
    def get_data_dtype(self) -> np.dtype:
        """Numpy dtype of the image data, in the header's byte order."""
        dtype = self.data_types.dtype(int(self["datatype"]))
        return dtype.newbyteorder(self.endianness) if dtype.fields is None else dtype

    def set_data_dtype(self, dtype: Any) -> None:
        """Set ``datatype`` and ``bitpix`` for a numpy dtype, a data type code or label.

        Raises
        ------
        HeaderDataError
            If the format cannot store ``dtype``; the message lists the
            dtypes it can store.
        """
        if isinstance(dtype, (int, np.integer)) and not isinstance(dtype, bool):
            dtype = self.data_types.dtype(int(dtype))
        elif isinstance(dtype, str) and dtype in self.data_types:
            value = self.data_types.lookup(dtype).value
            if value is not None:  # a label such as 'RGB'; else refused below
                dtype = value
        code = self.data_types.code_for_dtype(dtype)
        self["datatype"] = code
        self["bitpix"] = self.data_types.dtype(code).itemsize * 8

    # -- shape and voxel sizes ---------------------------------------------------------
    def get_data_shape(self) -> tuple[int, ...]:
        """Shape of the image data, from ``dim``; ``(0,)`` when ``dim[0]`` is 0."""
        dim = self["dim"]
        ndim = int(dim[0])
        if ndim == 0:
            return (0,)
        return tuple(int(n) for n in dim[1 : ndim + 1])

    def set_data_shape(self, shape: Sequence[int]) -> None:
        """Set ``dim`` for a data shape of 1 to 7 axes, each at most :meth:`max_dim_length`."""
        shape = tuple(int(n) for n in shape)
        if not 1 <= len(shape) <= MAX_NDIM:
            raise HeaderDataError(
                f"{type(self).__name__} stores 1 to {MAX_NDIM} dimensions, not {len(shape)}"
            )
        limit = self.max_dim_length()
        if any(n < 0 or n > limit for n in shape):
            raise HeaderDataError(
                f"shape {shape} does not fit the header: each length must be 0 to {limit}"
            )
        ndim = len(shape)
        dim = np.ones(8, dtype=np.int64)
        dim[0] = ndim
        dim[1 : ndim + 1] = shape
        self["dim"] = dim
        pixdim = np.array(self["pixdim"], dtype=np.float64)
        pixdim[ndim + 1 :] = 1.0
        self["pixdim"] = pixdim

    @classmethod
    def max_dim_length(cls) -> int:
        """The longest axis ``dim`` can hold: the largest value of its integer type."""
        return int(np.iinfo(cls.template_dtype["dim"].base).max)

    def get_zooms(self) -> tuple[float, ...]:
        """Voxel sizes, one per data axis (``(1.0,)`` for an empty header)."""
        ndim = int(self["dim"][0])
        if ndim == 0:
            return (1.0,)
        return tuple(float(z) for z in self["pixdim"][1 : ndim + 1])

    def set_zooms(self, zooms: Sequence[float]) -> None:
        """Set ``pixdim[1:ndim+1]``; one non-negative size per data axis."""
        zooms = tuple(float(z) for z in zooms)
        ndim = int(self["dim"][0])
        if len(zooms) != max(ndim, 1):
            raise HeaderDataError(
                f"expected {ndim} zooms for shape {self.get_data_shape()}, got {len(zooms)}"
            )
        if any(not np.isfinite(z) or z < 0 for z in zooms):
            raise HeaderDataError(f"zooms {zooms} must be finite and not negative")
        pixdim = np.array(self["pixdim"], dtype=np.float64)
        pixdim[1 : len(zooms) + 1] = zooms
        self["pixdim"] = pixdim

    # -- where the data start -------------------------------------------------------------
    def get_data_offset(self) -> int:
        """Byte offset of the data in the image file (``vox_offset``, truncated)."""
        offset = float(self["vox_offset"])
        if not np.isfinite(offset) or offset < 0:
            raise HeaderDataError(f"vox_offset {offset} is not a byte offset")
        return int(offset)

    def data_start(self) -> int:
        """Where the data of a file with this header start (``vox_offset``)."""
        return self.get_data_offset()

    def set_data_offset(self, offset: int) -> None:
        """Set ``vox_offset``."""
        if offset < 0:
            raise HeaderDataError(f"data offset {offset} must not be negative")
        self["vox_offset"] = offset

    # -- the data, read and written through the header -----------------------------------
    def data_from_fileobj(self, fileobj: BinaryIO) -> np.ndarray:
        """The data this header describes, read from ``fileobj`` where they start.

        Scaled by :meth:`get_slope_inter` (to float64) when the header
        records scaling; otherwise in the stored dtype, byte order included.
        """
        dtype = self.get_data_dtype()
        spec = (self.get_data_shape(), dtype, self.data_start())
        raw = ArrayProxy(fileobj, spec, mmap=False).get_unscaled()
        slope, inter = self.get_slope_inter()
        if slope in (None, 1.0) and not inter:
            return raw if raw.dtype == dtype else raw.astype(dtype)
        return _scaled(raw, slope, inter or 0.0)

    def data_to_fileobj(self, data: Any, fileobj: BinaryIO, rescale: bool = True) -> None:
        """Write ``data`` to ``fileobj`` where they start, in this header's dtype.

        With ``rescale`` the scaling that stores the data with least loss is
        chosen and recorded in this header; without it values are rounded
        to the dtype as they are.

        Raises
        ------
        HeaderDataError
            If the data do not have the header's shape.
        WriterError
            If the values cannot be stored in the dtype.
        """
        data = np.asanyarray(data)
        shape = self.get_data_shape()
        if data.shape != shape:
            raise HeaderDataError(f"data have shape {data.shape}; the header says {shape}")
        if data.size == 0:
            return  # nothing to write (not even the padding up to the data)
        # here, not at module level: only writes need voxelio's writing code
        from voxelio.plugin import StoragePlan, plan_storage

        out = self.get_data_dtype()
        if rescale:
            try:
                plan = plan_storage(data, out, self.has_data_slope, self.has_data_intercept)
            except WriterError as err:
                if self.has_data_slope:
                    raise
                raise HeaderTypeError(f"{err}; {type(self).__name__} stores no scaling") from None
        else:
            plan = StoragePlan(_rounded_into(data, out), 1.0, 0.0, False)
        plan.write(fileobj, out, offset=self.data_start())
        if rescale:
            self.set_slope_inter(plan.slope, plan.inter if self.has_data_intercept else None)

    # -- scaling (SPM) ----------------------------------------------------------------------
    def get_slope_inter(self) -> tuple[float | None, float | None]:
        """Scale factor and intercept, as SPM2 reads them.

        ``funused1`` (SPM's ``scl_slope``) is used when finite and non-zero,
        with ``funused2`` as intercept when finite (else 0). Otherwise, when
        both ``glmax - glmin`` and ``cal_max - cal_min`` are non-zero, they
        give the scaling; otherwise there is none: ``(None, None)``.
        """
        slope = float(self["funused1"])
        if np.isfinite(slope) and slope != 0:
            inter = float(self["funused2"])
            return slope, inter if np.isfinite(inter) else 0.0
        stored_range = float(self["glmax"]) - float(self["glmin"])
        # the calibrated range is a float32 difference, as SPM2 (and NiBabel) compute it
        with np.errstate(over="ignore", invalid="ignore"):
            real_range = float(np.float32(self["cal_max"]) - np.float32(self["cal_min"]))
        if stored_range and real_range and np.isfinite(real_range):
            slope = real_range / stored_range
            return slope, float(self["cal_min"]) - slope * float(self["glmin"])
        return None, None

    def set_slope_inter(self, slope: float | None, inter: float | None = None) -> None:
        """Record a scale factor in ``funused1``; Analyze has no room for an intercept.

        ``slope`` None or NaN means "no scaling". A header that already
        reads as unscaled is left as it is when asked for no scaling.

        Raises
        ------
        HeaderTypeError
            For a non-zero intercept.
        HeaderDataError
            For a zero or infinite slope.
        """
        if inter is not None and not np.isnan(inter) and inter != 0:
            raise HeaderTypeError(
                f"Analyze cannot store an intercept ({inter}); save as a float type, "
                "or use a format with an intercept such as NIfTI-1"
            )
        slope = 1.0 if slope is None or np.isnan(slope) else float(slope)
        if slope == 0 or not np.isfinite(slope):
            raise HeaderDataError(f"scale factor {slope} must be finite and non-zero")
        if slope == 1.0 and self.get_slope_inter() in ((None, None), (1.0, 0.0)):
            return
        self["funused1"] = slope
        self["funused2"] = 0.0

    # -- SPM origin and affines ----------------------------------------------------------------
    def get_origin(self) -> np.ndarray:
        """The five SPM origin values (1-based voxel coordinates), as int16."""
        if "origin" not in self:
            return np.zeros(5, np.int16)
        return np.array(self["origin"], dtype=np.int16)

    def origin_is_usable(self) -> bool:
        """True when the SPM origin is set and lies within (-dims, 2 * dims)."""
        origin = self.get_origin()[:3].astype(np.int64)
        dims = np.array(self["dim"][1:4], dtype=np.int64)
        return bool(np.any(origin) and np.all(origin > -dims) and np.all(origin < 2 * dims))

    def _spatial_zooms(self) -> np.ndarray:
        zooms = np.array(self["pixdim"][1:4], dtype=np.float64)
        if self.default_x_flip:
            zooms[0] = -zooms[0]
        return zooms

    def get_base_affine(self) -> np.ndarray:
        """Affine from voxel sizes alone: centred on the volume, first axis flipped."""
        zooms = self._spatial_zooms()
        dims = np.array(self["dim"][1:4], dtype=np.float64)
        return _diag_affine(zooms, (dims - 1) / 2.0)

    def get_origin_affine(self) -> np.ndarray:
        """Affine placing the SPM origin voxel at world 0 (else the volume centre)."""
        if not self.origin_is_usable():
            return self.get_base_affine()
        return _diag_affine(self._spatial_zooms(), self.get_origin()[:3] - 1.0)

    get_best_affine = get_origin_affine

    def set_origin_from_affine(self, affine: np.ndarray) -> None:
        """Store in ``origin`` the (1-based, rounded) voxel that ``affine`` maps to world 0.

        An affine that the header already implies, or the centred default,
        leaves the origin unset (0); an origin outside what the field can
        usefully hold is also left unset.
        """
        affine = np.asarray(affine, dtype=np.float64)
        if affine.shape != (4, 4):
            raise HeaderDataError(f"an affine must be 4x4, not {affine.shape}")
        if np.allclose(self.get_best_affine(), affine):
            return
        if np.allclose(self.get_base_affine(), affine):
            self._set_origin3((0, 0, 0))
            return
        try:
            voxel = np.linalg.solve(affine, [0.0, 0.0, 0.0, 1.0])[:3] + 1.0
        except np.linalg.LinAlgError:
            self._set_origin3((0, 0, 0))
            return
        origin = np.round(voxel)
        if not np.all(np.isfinite(origin)) or np.any(np.abs(origin) > MAX_DIM_LENGTH):
            self._set_origin3((0, 0, 0))
            return
        self._set_origin3(origin.astype(np.int64))
        if not self.origin_is_usable():
            self._set_origin3((0, 0, 0))

    def _set_origin3(self, values: Sequence[int]) -> None:
        origin = self.get_origin()
        origin[:3] = values
        self["origin"] = origin


__all__ = [
    "COMMON_CHECKS",
    "DATA_TYPES",
    "HEADER_SIZE",
    "AnalyzeHeader",
    "check_bitpix",
    "check_datatype",
    "check_dims",
    "check_origin",
    "check_pixdims",
    "check_sizeof_hdr",
    "check_vox_offset",
    "header_dtype",
]


def _scaled(raw: np.ndarray, slope: float, inter: float) -> np.ndarray:
    kind = np.complex128 if raw.dtype.kind == "c" else np.float64
    out = raw.astype(kind)
    out *= slope
    out += inter
    return out


def _rounded_into(data: np.ndarray, out: np.dtype) -> np.ndarray:
    """Floats rounded (and clipped) into an integer dtype, as asked with rescale=False."""
    if out.kind not in "iu" or data.dtype.kind not in "fc":
        return data
    info = np.iinfo(out)
    with np.errstate(invalid="ignore"):
        values = np.nan_to_num(np.rint(data.real), nan=0.0)
    return np.clip(values, info.min, info.max)


def _diag_affine(zooms: np.ndarray, centre: np.ndarray) -> np.ndarray:
    affine = np.eye(4)
    affine[:3, :3] = np.diag(zooms)
    affine[:3, 3] = -np.asarray(centre, dtype=np.float64) * zooms
    return affine
