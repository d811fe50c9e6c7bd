"""The toy format: a minimal single-file format that exercises the framework.

Layout (little- or big-endian, told apart by the ``byte_order_mark`` field):
a 128-byte header, then the array in Fortran order at ``vox_offset``.
It has the features real formats have: a struct header with checks, a
dtype code table, scaling (slope and intercept), an affine, compression by
suffix or content. It is test-only and not a format anyone should use.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from voxelio.plugin import (
    CRITICAL,
    ERROR,
    MODERATE,
    NATIVE,
    DtypeTable,
    HeaderDataError,
    Report,
    SpatialImage,
    StructHeader,
)

from . import plugin as _facts
from .plugin import HEADER_SIZE, MAGIC

toy_header_dtype = np.dtype(
    [
        ("magic", "S4"),
        ("byte_order_mark", "u2"),
        ("ndim", "u2"),
        ("datatype", "i2"),
        ("pad", "i2"),
        ("dims", "i4", (7,)),
        ("zooms", "f4", (7,)),
        ("affine", "f4", (3, 4)),
        ("scl_slope", "f4"),
        ("scl_inter", "f4"),
        ("vox_offset", "i4"),
    ]
)
assert toy_header_dtype.itemsize == HEADER_SIZE

DATATYPES = DtypeTable.from_rows("toy data type", _facts.DATA_TYPES)


def _check_magic(hdr: ToyHeader, fix: bool) -> Report | None:
    if hdr["magic"].item() != MAGIC:
        return Report(CRITICAL, f"magic {hdr['magic'].item()!r} is not {MAGIC!r}")
    return None


def _check_ndim(hdr: ToyHeader, fix: bool) -> Report | None:
    if not 1 <= int(hdr["ndim"]) <= 7:
        return Report(ERROR, f"ndim {int(hdr['ndim'])} is not between 1 and 7")
    dims = hdr["dims"][: int(hdr["ndim"])]
    if np.any(dims < 0):
        return Report(ERROR, f"dims {dims.tolist()} has a negative length")
    return None


def _check_datatype(hdr: ToyHeader, fix: bool) -> Report | None:
    code = int(hdr["datatype"])
    try:
        DATATYPES.dtype(code)
    except HeaderDataError as err:
        return Report(ERROR, str(err))
    return None


def _check_zooms(hdr: ToyHeader, fix: bool) -> Report | None:
    zooms = hdr["zooms"]
    if np.all(zooms >= 0):
        return None
    report = Report(MODERATE, "zooms should be positive")
    if fix:
        hdr["zooms"] = np.abs(zooms)
        report.fix_msg = "setting to absolute values"
    return report


def _check_offset(hdr: ToyHeader, fix: bool) -> Report | None:
    if int(hdr["vox_offset"]) < HEADER_SIZE:
        report = Report(ERROR, f"vox_offset {int(hdr['vox_offset'])} lies inside the header")
        if fix:
            hdr["vox_offset"] = HEADER_SIZE
            report.fix_msg = f"setting to {HEADER_SIZE}"
            report.problem_level = MODERATE
        return report
    return None


class ToyHeader(StructHeader):
    """Header of the toy format."""

    template_dtype = toy_header_dtype
    defaults = {
        "magic": MAGIC,
        "byte_order_mark": 1,
        "ndim": 1,
        "datatype": 16,
        "dims": [0, 1, 1, 1, 1, 1, 1],
        "zooms": [1] * 7,
        "affine": np.eye(4)[:3],
        "scl_slope": 1,
        "scl_inter": 0,
        "vox_offset": HEADER_SIZE,
    }
    checks = (_check_magic, _check_ndim, _check_datatype, _check_zooms, _check_offset)

    @classmethod
    def guessed_endian(cls, binaryblock: bytes) -> str:
        return _facts.BYTE_ORDER_MARKS.get(bytes(binaryblock[4:6]), NATIVE)

    def get_data_dtype(self) -> np.dtype:
        return DATATYPES.dtype(int(self["datatype"])).newbyteorder(self.endianness)

    def set_data_dtype(self, dtype: Any) -> None:
        self["datatype"] = DATATYPES.code_for_dtype(dtype)

    def get_data_shape(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self["dims"][: int(self["ndim"])])

    def set_data_shape(self, shape: Any) -> None:
        shape = tuple(int(n) for n in shape)
        if not 1 <= len(shape) <= 7:
            raise HeaderDataError(f"toy images have 1 to 7 dimensions, not {len(shape)}")
        if any(n < 0 or n > 2**31 - 1 for n in shape):
            raise HeaderDataError(f"shape {shape} does not fit the toy header")
        dims = np.ones(7, dtype=np.int64)
        dims[: len(shape)] = shape
        self["dims"] = dims
        self["ndim"] = len(shape)

    def get_zooms(self) -> tuple[float, ...]:
        return tuple(float(z) for z in self["zooms"][: int(self["ndim"])])

    def set_zooms(self, zooms: Any) -> None:
        zooms = [float(z) for z in zooms]
        if len(zooms) != int(self["ndim"]):
            raise HeaderDataError(f"expected {int(self['ndim'])} zooms, got {len(zooms)}")
        if any(z < 0 for z in zooms):
            raise HeaderDataError(f"zooms {zooms} must not be negative")
        full = np.ones(7)
        full[: len(zooms)] = zooms
        self["zooms"] = full

    def get_best_affine(self) -> np.ndarray:
        affine = np.eye(4)
        affine[:3] = self["affine"]
        return affine

    def set_affine(self, affine: np.ndarray) -> None:
        self["affine"] = np.asarray(affine)[:3]

    def get_slope_inter(self) -> tuple[float, float]:
        return float(self["scl_slope"]), float(self["scl_inter"])

    def get_data_offset(self) -> int:
        return int(self["vox_offset"])


class ToyImage(SpatialImage):
    """Image of the toy format (``.toy``, optionally compressed)."""

    header_class = ToyHeader
    files_types = _facts.FILES_TYPES
    valid_exts = _facts.EXTENSIONS
    rw = True
    can_store_slope = True
    can_store_intercept = True

    def _affine2header(self) -> None:
        super()._affine2header()
        self.header.set_affine(self.affine)

    # reading is the framework's steps: header, then a proxy at its offset and scaling

    def _plan_storage(self, header: ToyHeader) -> Any:
        plan = super()._plan_storage(header)
        header["scl_slope"] = plan.slope
        header["scl_inter"] = plan.inter
        header["vox_offset"] = HEADER_SIZE
        return plan

    def _write_files(self, files: Any, header: ToyHeader, plan: Any) -> None:
        header.write_to(files["image"])
        plan.write(files["image"], header.get_data_dtype(), offset=HEADER_SIZE)
