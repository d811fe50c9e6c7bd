"""The LAB header and image: what LAB's bytes look like, read and written.

The format's facts come from the entry module (:mod:`voxelio_lab.plugin`),
as the FormatSpec's do, so that the two cannot disagree.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from voxelio.plugin import ERROR, DtypeTable, HeaderDataError, Report, SpatialImage, StructHeader

from .plugin import DATA_TYPES, EXTENSIONS, FILES_TYPES, HEADER_SIZE, MAGIC, MAX_NDIM

# -- the header ------------------------------------------------------------------------
header_dtype = np.dtype(
    [
        ("magic", "S4"),
        ("ndim", "u2"),
        ("datatype", "u2"),
        ("dims", "i4", (4,)),
        ("zooms", "f4", (4,)),
        ("scale", "f4"),
        ("note", "S20"),
    ]
)
assert header_dtype.itemsize == HEADER_SIZE

DATATYPES = DtypeTable.from_rows("LAB data type", DATA_TYPES)


def check_header(hdr: LabHeader, fix: bool) -> Report | None:
    """Magic, axis count, lengths and data type must be usable, else loading fails."""
    ndim = int(hdr["ndim"])
    if hdr["magic"].item() != MAGIC:
        return Report(ERROR, f"magic {hdr['magic'].item()!r} is not {MAGIC!r}")
    if not 1 <= ndim <= MAX_NDIM:
        return Report(ERROR, f"ndim {ndim} is not between 1 and {MAX_NDIM}")
    if np.any(hdr["dims"][:ndim] < 0):
        return Report(ERROR, f"dims {hdr['dims'][:ndim].tolist()} has a negative length")
    if int(hdr["datatype"]) not in DATATYPES.codes():
        return Report(ERROR, f"datatype {int(hdr['datatype'])} is not a LAB data type")
    return None


class LabHeader(StructHeader):
    """The 64-byte LAB header (always little-endian)."""

    template_dtype = header_dtype
    fixed_endianness = "<"
    has_data_slope = True
    defaults = {"magic": MAGIC, "ndim": 1, "datatype": 16, "dims": [0, 1, 1, 1],
                "zooms": [1, 1, 1, 1]}
    checks = (check_header,)

    def get_data_dtype(self) -> np.dtype:
        return DATATYPES.dtype(int(self["datatype"])).newbyteorder("<")

    def set_data_dtype(self, dtype: Any) -> None:
        # code_for_dtype raises HeaderDataError naming the dtypes LAB stores
        self["datatype"] = DATATYPES.code_for_dtype(dtype)

    def get_data_shape(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self["dims"][: int(self["ndim"])])

    def set_data_shape(self, shape: Any) -> None:
        shape = tuple(int(n) for n in shape)
        if not 1 <= len(shape) <= MAX_NDIM:
            raise HeaderDataError(f"LAB stores 1 to {MAX_NDIM} axes, not {len(shape)}")
        if any(not 0 <= n < 2**31 for n in shape):
            raise HeaderDataError(f"shape {shape} does not fit the LAB header")
        self["ndim"] = len(shape)
        self["dims"] = (*shape, 1, 1, 1)[:MAX_NDIM]

    def get_zooms(self) -> tuple[float, ...]:
        return tuple(float(z) for z in self["zooms"][: int(self["ndim"])])

    def set_zooms(self, zooms: Any) -> None:
        zooms = [float(z) for z in zooms]
        if len(zooms) != int(self["ndim"]) or any(z < 0 for z in zooms):
            raise HeaderDataError(f"need {int(self['ndim'])} zooms >= 0, got {zooms}")
        self["zooms"] = (*zooms, 1, 1, 1)[:MAX_NDIM]

    def get_best_affine(self) -> np.ndarray:
        """Voxel sizes on the diagonal: all the geometry LAB stores."""
        zooms = (*self.get_zooms()[:3], 1.0, 1.0)[:3]
        return np.diag([*zooms, 1.0])

    def get_slope_inter(self) -> tuple[float | None, None]:
        scale = float(self["scale"])
        return (scale if scale not in (0.0, 1.0) else None), None

    def get_data_offset(self) -> int:
        return HEADER_SIZE


# -- the image -----------------------------------------------------------------------
class LabImage(SpatialImage):
    """A LAB image. Reading is the framework's: header, then a lazy proxy on the data."""

    header_class = LabHeader
    # the same facts as the spec: the class names and checks files by these
    files_types = FILES_TYPES
    valid_exts = EXTENSIONS
    rw = True
    can_store_slope = True  # integer types may hold scaled float data

    def _plan_storage(self, header: LabHeader) -> Any:
        """Choose how the values are stored; record the scale factor in the header."""
        plan = super()._plan_storage(header)
        header["scale"] = plan.slope
        return plan

    def _write_files(self, files: Any, header: LabHeader, plan: Any) -> None:
        """Header, then data, in the file the framework opened for writing."""
        header.write_to(files["image"])
        plan.write(files["image"], header.get_data_dtype(), offset=HEADER_SIZE)
