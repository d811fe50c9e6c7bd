"""Check/fix rules of headers with the Analyze 7.5 layout.

Each check is ``check(hdr, fix) -> Report | None`` (see
:mod:`voxelio.structheader`): None when the header is fine, else a report;
with ``fix`` true it mends what it can in place. The checks read class
attributes of the header (``header_size``, ``data_types``) and its methods,
so headers derived from :class:`~voxelio_analyze.header.AnalyzeHeader`
(NIfTI-1) reuse them; :data:`COMMON_CHECKS` are the ones that hold for
every header with this layout.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from voxelio.plugin import ERROR, INFO, MODERATE, OK, WARNING, HeaderDataError, Report

from ._layout import MAX_NDIM


def check_sizeof_hdr(hdr: Any, fix: bool) -> Report | None:
    """``sizeof_hdr`` must be the header size (348)."""
    expected = type(hdr).header_size
    found = int(hdr["sizeof_hdr"])
    if found == expected:
        return None
    report = Report(MODERATE, f"sizeof_hdr should be {expected}, not {found}")
    if fix:
        hdr["sizeof_hdr"] = expected
        report.fix_msg = f"setting sizeof_hdr to {expected}"
    return report


def check_dims(hdr: Any, fix: bool) -> Report | None:
    """``dim[0]`` must be a dimension count and the lengths must not be negative."""
    dim = hdr["dim"].tolist()  # Python integers: cheaper than numpy on eight numbers
    ndim = dim[0]
    if not 0 <= ndim <= MAX_NDIM:
        return Report(
            ERROR,
            f"dim[0] = {ndim} is not a number of dimensions (0 to {MAX_NDIM}): "
            "the header is corrupt or not an Analyze header",
        )
    lengths = dim[1 : ndim + 1]
    if min(lengths, default=0) < 0:
        return Report(ERROR, f"dim[1:{ndim + 1}] = {lengths} has a negative length")
    return None


def check_datatype(hdr: Any, fix: bool) -> Report | None:
    """``datatype`` must be a code this format can read."""
    code = int(hdr["datatype"])
    table = type(hdr).data_types
    if code not in table.codes():
        return Report(ERROR, f"data code {code} is not recognised as a {table.name}")
    try:
        table.dtype(code)
    except HeaderDataError:
        return Report(ERROR, f"{table.name} code {code} ({table.label(code)}) is not supported")
    return None


def check_bitpix(hdr: Any, fix: bool) -> Report | None:
    """``bitpix`` must match the data type's item size (only checked for a valid type)."""
    try:
        dtype = type(hdr).data_types.dtype(int(hdr["datatype"]))
    except HeaderDataError:
        return None
    expected = dtype.itemsize * 8
    found = int(hdr["bitpix"])
    if found == expected:
        return None
    report = Report(INFO, f"bitpix {found} does not match the data type (should be {expected})")
    if fix:
        hdr["bitpix"] = expected
        report.fix_msg = f"setting bitpix to {expected}"
    return report


def check_pixdims(hdr: Any, fix: bool) -> Report | None:
    """The three spatial voxel sizes ``pixdim[1:4]`` must be positive."""
    sizes = hdr["pixdim"][1:4].tolist()
    if not any(size <= 0 for size in sizes):  # the usual case, without numpy (every load)
        return None
    spatial = np.array(sizes, dtype=np.float64)
    zero = spatial == 0
    negative = spatial < 0
    if not zero.any() and not negative.any():
        return None
    problems, level = [], OK
    if zero.any():
        problems.append("pixdim[1,2,3] should be non-zero")
        level = MODERATE
    if negative.any():
        problems.append("pixdim[1,2,3] should be positive")
        level = MODERATE + 5
    report = Report(level, "; ".join(problems))
    if fix:
        fixed = np.abs(spatial)
        fixed[fixed == 0] = 1.0
        pixdim = np.array(hdr["pixdim"], dtype=np.float64)
        pixdim[1:4] = fixed
        hdr["pixdim"] = pixdim
        report.fix_msg = "setting zero sizes to 1 and negative sizes to their absolute values"
    return report


def check_vox_offset(hdr: Any, fix: bool) -> Report | None:
    """``vox_offset`` (where the data start in the image file) must be finite and >= 0."""
    offset = float(hdr["vox_offset"])
    if np.isfinite(offset) and offset >= 0:
        return None
    return Report(ERROR, f"vox_offset {offset} is not a byte offset (finite and >= 0)")


def check_origin(hdr: Any, fix: bool) -> Report | None:
    """An SPM origin far outside the volume is reported and then ignored."""
    if hdr.origin_is_usable() or not np.any(hdr.get_origin()):
        return None
    return Report(
        WARNING,
        "very large origin values relative to dims",
        "leaving as set, ignoring for affine",
    )


#: checks that hold for every header with the Analyze 7.5 layout (NIfTI-1 included)
COMMON_CHECKS = (check_sizeof_hdr, check_dims, check_datatype, check_bitpix, check_pixdims)
